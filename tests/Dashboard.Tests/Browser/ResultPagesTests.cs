namespace SqueezeNext.Dashboard.Tests.Browser;

/// <summary>What the browser does with finished runs: evaluate, compare, register, promote, import and classify.</summary>
[Collection(DashboardSiteCollection.Name)]
[Trait("Level", "browser")]
public sealed class ResultPagesTests(DashboardSite site)
{
    [SkippableFact]
    public async Task A_checkpoint_is_evaluated_from_its_run_page() => await site.OnPageAsync("evaluate", async page =>
    {
        var source = await site.TrainedRunAsync();
        await page.GotoAsync($"/runs/{source}");
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.ClickAsync(".rz-tabview-nav >> text='Checkpoints'");
        await page.ClickAsync(".evaluate-checkpoint[data-step='80']");
        await DashboardBrowser.WaitForPageAsync(page, "/evaluate/new");
        // The form knows the run and its checkpoints.
        Assert.Equal(source.ToString(), await page.InputValueAsync("#run"));
        await page.WaitForSelectorAsync("#source-run");
        await DashboardBrowser.SetNumberAsync(page, "max-images", "0");
        await page.ClickAsync("#start-evaluation");
        await page.WaitForSelectorAsync(".field-error >> text=Evaluate at least one image (leave empty for all).");
        await DashboardBrowser.ScreenshotAsync(page, "new-evaluation-validation");

        await DashboardBrowser.SetNumberAsync(page, "max-images", "300");
        var evaluation = await DashboardBrowser.SubmitAsync(page, "#start-evaluation");
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync(".status-badge[data-status='completed']", new() { Timeout = 300_000 });
        await page.WaitForSelectorAsync("#evaluation-summary");
        Assert.StartsWith("300 images", await page.InnerTextAsync("#evaluation-summary"));
        Assert.Equal(10, await page.Locator("#per-class-grid tbody tr").CountAsync());
        await DashboardBrowser.ScreenshotAsync(page, "run-detail-evaluation");
        await using var db = site.System.Db();
        Assert.Equal(300, (await db.EvaluationResults.SingleAsync(r => r.RunId == evaluation)).Images);
    });

    [SkippableFact]
    public async Task Two_runs_chosen_in_the_runs_list_are_compared() => await site.OnPageAsync("compare", async page =>
    {
        Guid[] runs = [await site.TrainedRunAsync(1), await site.TrainedRunAsync(2)];
        await page.GotoAsync("/runs");
        await DashboardBrowser.WaitForCircuitAsync(page);
        foreach (var id in runs)
            await page.Locator("#runs-grid tr", new() { Has = page.Locator($"a[href='/runs/{id}']") }).Locator(".rz-chkbox-box").ClickAsync();
        await page.ClickAsync("#compare-selected");
        await DashboardBrowser.WaitForPageAsync(page, "/compare?ids=");
        await page.WaitForSelectorAsync(".metric-chart[data-title='Training loss'][data-series='2']");
        await page.WaitForSelectorAsync(".metric-chart[data-title='Validation top-1'][data-series='2']");
        // The table renders a moment after the charts on a busy machine: wait for both rows.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#compared-runs .run-link').length === 2");
        await DashboardBrowser.ScreenshotAsync(page, "compare");
    });

    [SkippableFact]
    public async Task A_registered_and_promoted_checkpoint_classifies_an_upload() => await site.OnPageAsync("classify", async page =>
    {
        var source = await site.TrainedRunAsync();
        await DashboardBrowser.RegisterAndPromoteAsync(page, source, step: 80, name: "fashion");
        await DashboardBrowser.ScreenshotAsync(page, "models");

        await page.GotoAsync("/classify");
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.SetInputFilesAsync("#image-input", Path.Combine(AppContext.BaseDirectory, "Fixtures", "chelsea-gray.jpg"));
        await page.WaitForSelectorAsync("#predictions .label");
        Assert.Equal(5, await page.Locator("#predictions .label").CountAsync());
        await DashboardBrowser.ScreenshotAsync(page, "classify");

        // A non-image gets a plain message.
        await page.SetInputFilesAsync("#image-input", Path.Combine(AppContext.BaseDirectory, "Fixtures", "README.md"));
        await page.WaitForSelectorAsync("#classify-error");
        Assert.Contains("not an image", await page.InnerTextAsync("#classify-error"));
        await using var db = site.System.Db();
        Assert.True(await db.ModelVersions.AnyAsync(v => v.Name == "fashion" && v.IsServing));
    });

    [SkippableFact]
    public async Task Pretrained_weights_are_imported_and_promoted_from_the_models_page()
    {
        // A state dict written by PyTorch in pytorchcv's layout (tests/Vision.Tests/Pytorchcv), named as pytorchcv's files are.
        var folder = Directory.CreateTempSubdirectory("sqnxt-browser-pth-").FullName;
        var script = Path.Combine(AppContext.BaseDirectory, "Pytorchcv", "pytorchcv_reference.py");
        var made = ExternalProcess.Run("/usr/bin/python3", $"\"{script}\" sqnxt23_w1 \"{folder}\"");
        Skip.If(made.Output.Contains("No module named 'torch'"), "python3-torch is not installed (scripts/test.sh installs it)");
        Assert.True(made.ExitCode == 0, made.Output);
        try
        {
            await site.OnPageAsync("import", async page =>
            {
                await page.GotoAsync("/models");
                await DashboardBrowser.WaitForCircuitAsync(page);
                await page.SetInputFilesAsync("#import-file", Path.Combine(folder, "sqnxt23_w1.pth"));
                await page.WaitForSelectorAsync("#import-file-name");
                // The configuration and the model name are taken from the file name.
                Assert.Equal("sqnxt23_w1", await page.InputValueAsync("input[name='import-name']"));
                await page.ClickAsync("#import");
                await page.WaitForSelectorAsync("#models-message >> text=Imported sqnxt23_w1 v1.");
                var row = page.Locator("#models-grid tr", new() { Has = page.Locator("text=imported from sqnxt23_w1.pth") });
                await row.Locator(".promote").ClickAsync();
                await row.Locator(".serving-badge").WaitForAsync();
                await DashboardBrowser.ScreenshotAsync(page, "models-imported");
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        await using var db = site.System.Db();
        var version = await db.ModelVersions.SingleAsync(v => v.Name == "sqnxt23_w1");
        Assert.Equal(("sqnxt23_w1", true, (Guid?)null), (version.ConfigurationName, version.IsServing, version.SourceRunId));
    }
}
