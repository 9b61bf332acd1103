using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Testing;

namespace SqueezeNext.Dashboard.Tests;

/// <summary>A worker, the dashboard and Debian's Chromium on the real services, shared by the browser tests.</summary>
public sealed class DashboardSite : IAsyncLifetime
{
    public const string Password = "browser-test-password";

    public JobSystem System { get; private set; } = null!;
    public AppProcess Dashboard { get; private set; } = null!;
    public string? Unavailable { get; private set; }
    private DashboardBrowser? browser;

    public async Task InitializeAsync()
    {
        System = await JobSystem.CreateAsync();
        if (!System.AddFashionMnist()) Unavailable = "dataset-fashion-mnist is not installed";
        System.AddPhotos();
        await System.StartClientAsync();
        await System.StartWorkerAsync(new Dictionary<string, string> { ["Worker__TorchThreads"] = "2", ["Worker__DefaultModel"] = "fashion" });
        Dashboard = await System.StartDashboardAsync(Password);
        Unavailable ??= DashboardBrowser.Unavailable;
        if (Unavailable is null) browser = await DashboardBrowser.LaunchAsync(Dashboard.BaseAddress);
    }

    public Task<IPage> NewPageAsync() => browser!.NewPageAsync();

    public Task<IPage> SignedInPageAsync() => browser!.SignedInPageAsync(Password);

    public static Task WaitForCircuitAsync(IPage page) => DashboardBrowser.WaitForCircuitAsync(page);

    public static Task ScreenshotAsync(IPage page, string name) => DashboardBrowser.ScreenshotAsync(page, name);

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        await System.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardSiteCollection : ICollectionFixture<DashboardSite>
{
    public const string Name = "dashboard site";
}

[Collection(DashboardSiteCollection.Name)]
public sealed class BrowserTests(DashboardSite site)
{
    [SkippableFact]
    public async Task Without_login_every_page_redirects_to_the_login_page()
    {
        Skip.If(site.Unavailable is not null, site.Unavailable);
        var page = await site.NewPageAsync();
        foreach (var path in new[] { "/", "/runs", $"/runs/{Guid.NewGuid()}", "/train/new", "/evaluate/new", "/compare", "/models", "/classify" })
        {
            await page.GotoAsync(path);
            Assert.Contains("/login?returnUrl=", page.Url);
            Assert.True(await page.IsVisibleAsync("#sign-in"), $"{path}: no login form");
        }
        await DashboardSite.ScreenshotAsync(page, "login");

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = site.Dashboard.BaseAddress };
        var hub = await http.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, hub.StatusCode);

        await page.GotoAsync("/login");
        await page.FillAsync("#password", "wrong password");
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#login-error");
        Assert.Contains("Wrong user or password", await page.InnerTextAsync("#login-error"));
    }

    [SkippableFact]
    public async Task A_user_trains_watches_the_curve_live_clones_evaluates_compares_cancels_registers_promotes_and_classifies()
    {
        Skip.If(site.Unavailable is not null, site.Unavailable);
        var page = await site.SignedInPageAsync();
        try
        {
            await DashboardSite.WaitForCircuitAsync(page);
            await DashboardSite.ScreenshotAsync(page, "runs-empty");

            // A short run from the form (configuration and dataset are pre-selected: 1.0-SqNxt-23-28px on fashion-mnist).
            var completing = await DashboardBrowser.StartTrainingAsync(page, steps: 80, checkpointEvery: 40);
            await DashboardSite.ScreenshotAsync(page, "new-training-submitted");

            // The loss curve gains points while the page stays open.
            await DashboardSite.WaitForCircuitAsync(page);
            var first = await page.WaitForFunctionAsync("() => Number(document.querySelector('#loss-points')?.dataset.count) >= 1");
            int before = int.Parse(await page.GetAttributeAsync("#loss-points", "data-count") ?? "0");
            await page.WaitForFunctionAsync($"() => Number(document.querySelector('#loss-points')?.dataset.count) > {before}");
            Assert.Equal($"/runs/{completing}", new Uri(page.Url).AbsolutePath);
            await DashboardSite.ScreenshotAsync(page, "run-detail-live");

            // The run completes; its page shows it without a reload.
            await page.WaitForSelectorAsync(".status-badge[data-status='completed']", new() { Timeout = 300_000 });
            await DashboardSite.ScreenshotAsync(page, "run-detail-completed");

            // Clone with changes: the form starts from the run's settings, shows a message next to a bad field and
            // starts nothing until it is fixed.
            await page.ClickAsync("#clone-run");
            await page.WaitForURLAsync(url => url.Contains($"/train/new?from={completing}", StringComparison.Ordinal));
            await DashboardSite.WaitForCircuitAsync(page);
            Assert.Equal("80", await page.InputValueAsync("input[name='steps']"));
            Assert.Equal("32", await page.InputValueAsync("input[name='batch-size']"));
            await DashboardBrowser.SetNumberAsync(page, "batch-size", "0");
            await page.ClickAsync("#start-training");
            await page.WaitForSelectorAsync(".field-error >> text=Batch size must be between 1 and 65,536.");
            Assert.Contains("/train/new", page.Url);
            await DashboardSite.ScreenshotAsync(page, "new-training-validation");
            await DashboardBrowser.SetNumberAsync(page, "batch-size", "16");
            await DashboardBrowser.SetNumberAsync(page, "steps", "40");
            await page.ClickAsync("#start-training");
            await page.WaitForURLAsync(url => url.Contains("/runs/", StringComparison.Ordinal) && !url.Contains(completing.ToString(), StringComparison.Ordinal));
            var clone = Guid.Parse(new Uri(page.Url).Segments[^1]);
            await DashboardSite.WaitForCircuitAsync(page);
            await page.WaitForSelectorAsync(".status-badge[data-status='completed']", new() { Timeout = 300_000 });

            // Evaluate a checkpoint of the first run: the form knows the run and its checkpoints.
            await page.GotoAsync($"/runs/{completing}");
            await DashboardSite.WaitForCircuitAsync(page);
            await page.ClickAsync(".rz-tabview-nav >> text='Checkpoints'");
            await page.ClickAsync(".evaluate-checkpoint[data-step='80']");
            await page.WaitForURLAsync(url => url.Contains("/evaluate/new", StringComparison.Ordinal));
            await DashboardSite.WaitForCircuitAsync(page);
            Assert.Equal(completing.ToString(), await page.InputValueAsync("#run"));
            await page.WaitForSelectorAsync("#source-run");
            await DashboardBrowser.SetNumberAsync(page, "max-images", "0");
            await page.ClickAsync("#start-evaluation");
            await page.WaitForSelectorAsync(".field-error >> text=Evaluate at least one image (leave empty for all).");
            await DashboardSite.ScreenshotAsync(page, "new-evaluation-validation");
            await DashboardBrowser.SetNumberAsync(page, "max-images", "300");
            await page.ClickAsync("#start-evaluation");
            await page.WaitForURLAsync(url => url.Contains("/runs/", StringComparison.Ordinal));
            var evaluation = Guid.Parse(new Uri(page.Url).Segments[^1]);
            await DashboardSite.WaitForCircuitAsync(page);
            await page.WaitForSelectorAsync(".status-badge[data-status='completed']", new() { Timeout = 300_000 });
            await page.WaitForSelectorAsync("#evaluation-summary");
            Assert.StartsWith("300 images", await page.InnerTextAsync("#evaluation-summary"));
            Assert.Equal(10, await page.Locator("#per-class-grid tbody tr").CountAsync());
            await DashboardSite.ScreenshotAsync(page, "run-detail-evaluation");

            // Compare the two training runs, chosen in the runs list.
            await page.GotoAsync("/runs");
            await DashboardSite.WaitForCircuitAsync(page);
            foreach (var id in new[] { completing, clone })
                await page.Locator("#runs-grid tr", new() { Has = page.Locator($"a[href='/runs/{id}']") }).Locator(".rz-chkbox-box").ClickAsync();
            await page.ClickAsync("#compare-selected");
            await page.WaitForURLAsync(url => url.Contains("/compare?ids=", StringComparison.Ordinal));
            await page.WaitForSelectorAsync(".metric-chart[data-title='Training loss'][data-series='2']");
            await page.WaitForSelectorAsync(".metric-chart[data-title='Validation top-1'][data-series='2']");
            // The table renders a moment after the charts on a busy machine: wait for both rows.
            await page.WaitForFunctionAsync("() => document.querySelectorAll('#compared-runs .run-link').length === 2");
            await DashboardSite.ScreenshotAsync(page, "compare");

            // A long run (the worker is free again), cancelled from its page.
            var cancelled = await DashboardBrowser.StartTrainingAsync(page, steps: 1_000_000, checkpointEvery: 0);
            await DashboardSite.WaitForCircuitAsync(page);
            await page.WaitForSelectorAsync(".status-badge[data-status='running']", new() { Timeout = 120_000 });
            await page.ClickAsync("#cancel-run");
            await page.WaitForSelectorAsync(".status-badge[data-status='cancelled']", new() { Timeout = 120_000 });

            // Register its last checkpoint and promote it.
            await DashboardBrowser.RegisterAndPromoteAsync(page, completing, step: 80, name: "fashion");
            await DashboardSite.ScreenshotAsync(page, "models");

            // Classify an uploaded image with the serving model.
            await page.GotoAsync("/classify");
            await DashboardSite.WaitForCircuitAsync(page);
            await page.SetInputFilesAsync("#image-input", Path.Combine(AppContext.BaseDirectory, "Fixtures", "chelsea-gray.jpg"));
            await page.WaitForSelectorAsync("#predictions .label");
            Assert.Equal(5, await page.Locator("#predictions .label").CountAsync());
            await DashboardSite.ScreenshotAsync(page, "classify");

            // A non-image gets a plain message.
            await page.SetInputFilesAsync("#image-input", Path.Combine(AppContext.BaseDirectory, "Fixtures", "README.md"));
            await page.WaitForSelectorAsync("#classify-error");
            Assert.Contains("not an image", await page.InnerTextAsync("#classify-error"));

            await using var db = site.System.Db();
            Assert.Equal(RunStatus.Cancelled, (await db.Runs.SingleAsync(r => r.Id == cancelled)).Status);
            var cloned = await db.Runs.SingleAsync(r => r.Id == clone);
            Assert.Equal(40, cloned.Step);
            Assert.Contains("\"batchSize\":16", cloned.PlanJson.Replace(" ", ""));
            var evaluated = await db.EvaluationResults.SingleAsync(r => r.RunId == evaluation);
            Assert.Equal(300, evaluated.Images);
            Assert.True(await db.ModelVersions.AnyAsync(v => v.Name == "fashion" && v.IsServing));
            await page.GotoAsync("/runs");
            await DashboardSite.WaitForCircuitAsync(page);
            await DashboardSite.ScreenshotAsync(page, "runs");
            await page.WaitForSelectorAsync(".run-link");
        }
        catch
        {
            await DashboardSite.ScreenshotAsync(page, "failure");
            throw;
        }
    }

    [SkippableFact]
    public async Task Pretrained_weights_are_imported_and_promoted_from_the_models_page()
    {
        Skip.If(site.Unavailable is not null, site.Unavailable);
        // A state dict written by PyTorch in pytorchcv's layout (tests/Vision.Tests/Pytorchcv), named as pytorchcv's files are.
        var folder = Directory.CreateTempSubdirectory("sqnxt-browser-pth-").FullName;
        var script = Path.Combine(AppContext.BaseDirectory, "Pytorchcv", "pytorchcv_reference.py");
        var made = ExternalProcess.Run("/usr/bin/python3", $"\"{script}\" sqnxt23_w1 \"{folder}\"");
        Skip.If(made.Output.Contains("No module named 'torch'"), "python3-torch is not installed (scripts/test.sh installs it)");
        Assert.True(made.ExitCode == 0, made.Output);
        var page = await site.SignedInPageAsync();
        try
        {
            await page.GotoAsync("/models");
            await DashboardSite.WaitForCircuitAsync(page);
            await page.SetInputFilesAsync("#import-file", Path.Combine(folder, "sqnxt23_w1.pth"));
            await page.WaitForSelectorAsync("#import-file-name");
            // The configuration and the model name are taken from the file name.
            Assert.Equal("sqnxt23_w1", await page.InputValueAsync("input[name='import-name']"));
            await page.ClickAsync("#import");
            await page.WaitForSelectorAsync("#models-message >> text=Imported sqnxt23_w1 v1.");
            var row = page.Locator("#models-grid tr", new() { Has = page.Locator("text=imported from sqnxt23_w1.pth") });
            await row.Locator(".promote").ClickAsync();
            await row.Locator(".serving-badge").WaitForAsync();
            await DashboardSite.ScreenshotAsync(page, "models-imported");
        }
        catch
        {
            await DashboardSite.ScreenshotAsync(page, "failure-import");
            throw;
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
