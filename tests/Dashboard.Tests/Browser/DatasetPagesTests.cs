using Microsoft.Playwright;

namespace SqueezeNext.Dashboard.Tests.Browser;

/// <summary>A user's own photos, from the upload in the browser (tus-js-client against the dashboard's tus server) to a finished run that names the version.</summary>
[Collection(DashboardSiteCollection.Name)]
[Trait("Level", "browser")]
public sealed class DatasetPagesTests(DashboardSite site)
{
    [SkippableFact]
    public Task A_zip_of_class_folders_uploads_imports_and_trains_and_the_run_names_its_version_and_digest() => site.OnPageAsync("dataset-upload", async page =>
    {
        // Fashion-MNIST test images as PNGs in ten class folders, and the real photos in an eleventh.
        var archive = TestDatasets.FashionZip(Path.Combine(site.System.Root, "uploads", "wardrobe.zip"), perClass: 30, photos: true);
        await page.GotoAsync("/datasets");
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.FillAsync("#upload-name", "wardrobe");
        await page.SetInputFilesAsync("#upload-file", archive);

        // The page follows the import to the new version's page, which fills in when the worker is done.
        await page.WaitForURLAsync("**/datasets/wardrobe?version=1", new() { Timeout = 60_000 });
        await page.WaitForSelectorAsync("#version-summary", new() { Timeout = 120_000 });
        var summary = await page.InnerTextAsync("#version-summary");
        Assert.Contains("11 classes, 243 training and 61 validation images", summary);
        await using (var db = site.System.Db())
        {
            var version = await db.DatasetVersions.SingleAsync(v => v.DatasetName == "wardrobe" && v.Version == 1);
            Assert.Equal(DatasetVersionStatus.Ready, version.Status);
            Assert.Equal(("upload", "wardrobe.zip", "admin"), (version.Source, version.SourceName, version.CreatedBy));
            Assert.Contains(version.Digest!, summary);
        }

        await page.Locator(".rz-tabview-nav li", new() { HasTextString = "Samples" }).ClickAsync();
        var thumbnails = page.Locator("img.thumbnail");
        await thumbnails.First.WaitForAsync();
        Assert.Equal(11 * 12 - 8, await thumbnails.CountAsync());
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('img.thumbnail')].slice(0, 12).every(i => i.complete && i.naturalWidth === 96)");
        await DashboardBrowser.ScreenshotAsync(page, "dataset-samples");
        await page.Locator(".rz-tabview-nav li", new() { HasTextString = "Classes" }).ClickAsync();
        // The chart's class axis names every class.
        await page.Locator("#class-chart text", new() { HasTextString = "ankle-boot" }).First.WaitForAsync();
        await DashboardBrowser.ScreenshotAsync(page, "dataset-classes");

        await page.ClickAsync("#train-on-dataset");
        await DashboardBrowser.WaitForPageAsync(page, "/train/new");
        await DashboardBrowser.SetNumberAsync(page, "steps", "12");
        await DashboardBrowser.SetNumberAsync(page, "batch-size", "16");
        await DashboardBrowser.SetNumberAsync(page, "warmup-steps", "2");
        await DashboardBrowser.SetNumberAsync(page, "eval-every", "12");
        await DashboardBrowser.SetNumberAsync(page, "eval-images", "61");
        await DashboardBrowser.SetNumberAsync(page, "checkpoint-every", "0");
        await DashboardBrowser.SetNumberAsync(page, "precise-bn", "2");
        var run = await DashboardBrowser.SubmitAsync(page, "#start-training");
        await site.WaitForStatusAsync(run, RunStatus.Completed, TimeSpan.FromMinutes(5));
        await page.ReloadAsync();
        await DashboardBrowser.WaitForCircuitAsync(page);
        Assert.Equal("wardrobe v1", (await page.InnerTextAsync("#run-dataset")).Trim());
        await using (var db = site.System.Db())
        {
            var digest = (await db.DatasetVersions.SingleAsync(v => v.DatasetName == "wardrobe")).Digest!;
            Assert.Equal(digest[..12], (await page.InnerTextAsync("#run-dataset-digest")).Trim());
            Assert.Equal(digest, (await db.Runs.SingleAsync(r => r.Id == run)).DatasetDigest);
        }
        await DashboardBrowser.ScreenshotAsync(page, "run-on-uploaded-dataset");
    });
}
