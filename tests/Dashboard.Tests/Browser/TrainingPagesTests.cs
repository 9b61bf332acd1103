namespace SqueezeNext.Dashboard.Tests.Browser;

/// <summary>Starting, watching, cloning and cancelling training runs from the browser.</summary>
[Collection(DashboardSiteCollection.Name)]
[Trait("Level", "browser")]
public sealed class TrainingPagesTests(DashboardSite site)
{
    [SkippableFact]
    public async Task A_run_started_from_the_form_draws_its_loss_curve_live_and_completes() => await site.OnPageAsync("live", async page =>
    {
        await DashboardBrowser.WaitForCircuitAsync(page);
        await DashboardBrowser.ScreenshotAsync(page, "runs-empty");

        // Configuration and dataset are pre-selected: 1.0-SqNxt-23-28px on fashion-mnist.
        var run = await DashboardBrowser.StartTrainingAsync(page, steps: 80, checkpointEvery: 40);
        await DashboardBrowser.ScreenshotAsync(page, "new-training-submitted");

        // The loss curve gains points while the page stays open.
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.WaitForFunctionAsync("() => Number(document.querySelector('#loss-points')?.dataset.count) >= 1");
        int before = int.Parse(await page.GetAttributeAsync("#loss-points", "data-count") ?? "0");
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('#loss-points')?.dataset.count) > {before}");
        Assert.Equal($"/runs/{run}", new Uri(page.Url).AbsolutePath);
        await DashboardBrowser.ScreenshotAsync(page, "run-detail-live");

        // The run completes; its page shows it without a reload.
        await page.WaitForSelectorAsync(".status-badge[data-status='completed']", new() { Timeout = 300_000 });
        await DashboardBrowser.ScreenshotAsync(page, "run-detail-completed");
    });

    [SkippableFact]
    public async Task A_clone_starts_from_the_runs_settings_and_starts_nothing_while_a_field_is_wrong() => await site.OnPageAsync("clone", async page =>
    {
        var source = await site.TrainedRunAsync();
        await page.GotoAsync($"/runs/{source}");
        await DashboardBrowser.WaitForCircuitAsync(page);

        await page.ClickAsync("#clone-run");
        await DashboardBrowser.WaitForPageAsync(page, $"/train/new?from={source}");
        Assert.Equal("80", await page.InputValueAsync("input[name='steps']"));
        Assert.Equal("32", await page.InputValueAsync("input[name='batch-size']"));
        await DashboardBrowser.SetNumberAsync(page, "batch-size", "0");
        await page.ClickAsync("#start-training");
        await page.WaitForSelectorAsync(".field-error >> text=batchSize: 0 is outside 1..65536");
        Assert.Contains("/train/new", page.Url);
        await DashboardBrowser.ScreenshotAsync(page, "new-training-validation");

        await DashboardBrowser.SetNumberAsync(page, "batch-size", "16");
        await DashboardBrowser.SetNumberAsync(page, "steps", "40");
        var clone = await DashboardBrowser.SubmitAsync(page, "#start-training");
        Assert.NotEqual(source, clone);
        await using var db = site.System.Db();
        Assert.Contains("\"batchSize\":16", (await db.Runs.SingleAsync(r => r.Id == clone)).PlanJson.Replace(" ", ""));
        // Finished before the next test, so that it has the worker to itself.
        await site.WaitForStatusAsync(clone, RunStatus.Completed, TimeSpan.FromMinutes(5));
    });

    [SkippableFact]
    public async Task A_running_run_is_cancelled_from_its_page() => await site.OnPageAsync("cancel", async page =>
    {
        await site.TrainedRunAsync();
        var run = await DashboardBrowser.StartTrainingAsync(page, steps: 1_000_000, checkpointEvery: 0);
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync(".status-badge[data-status='running']", new() { Timeout = 120_000 });
        await page.ClickAsync("#cancel-run");
        await page.WaitForSelectorAsync(".status-badge[data-status='cancelled']", new() { Timeout = 120_000 });

        await using var db = site.System.Db();
        Assert.Equal(RunStatus.Cancelled, (await db.Runs.SingleAsync(r => r.Id == run)).Status);
    });
}
