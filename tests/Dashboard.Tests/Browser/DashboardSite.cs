using MassTransit;
using Microsoft.Playwright;
using SqueezeNext.Contracts;

namespace SqueezeNext.Dashboard.Tests.Browser;

/// <summary>
/// A worker, the dashboard and Debian's Chromium on the real services, shared by the browser tests, and the completed
/// training run most of them start from (made once, by the first test that asks for it).
/// </summary>
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

    private readonly Dictionary<int, Task<Guid>> trainedRuns = [];

    /// <summary>
    /// A completed 80-step run of 1.0-SqNxt-23-28px on fashion-mnist with checkpoints at steps 40 and 80; another one
    /// (other seed) for each <paramref name="number"/>.
    /// </summary>
    public Task<Guid> TrainedRunAsync(int number = 1)
    {
        if (!trainedRuns.TryGetValue(number, out var run)) trainedRuns[number] = run = TrainAsync(number);
        return run;
    }

    private async Task<Guid> TrainAsync(int number)
    {
        var runId = NewId.NextGuid();
        var reply = await System.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(new SubmitTraining(runId, "1.0-SqNxt-23-28px", "fashion-mnist",
            Name: $"browser tests {number}", Settings: new TrainingSettings { MaxSteps = 80, BatchSize = 32, WarmupSteps = 10, PreciseBatchNormBatches = 5, Seed = number, EvalEverySteps = 40, EvalMaxImages = 300, CheckpointEverySteps = 40 }));
        Assert.True(reply.Is(out Response<RunQueued>? _), "the training run was rejected");
        await WaitForStatusAsync(runId, RunStatus.Completed, TimeSpan.FromMinutes(5));
        return runId;
    }

    /// <summary>Waits until the run reaches <paramref name="status"/> in the database.</summary>
    public Task WaitForStatusAsync(Guid runId, RunStatus status, TimeSpan timeout) =>
        System.WaitForAsync(async db => (await db.Runs.FindAsync(runId)) is { } run && run.Status == status ? run : null, timeout, $"run {runId} {status}");

    public Task<IPage> NewPageAsync() => browser!.NewPageAsync();

    public Task<IPage> SignedInPageAsync() => browser!.SignedInPageAsync(Password);

    /// <summary>Runs <paramref name="steps"/> on a signed-in page, with a screenshot named <paramref name="name"/> when they fail.</summary>
    public async Task OnPageAsync(string name, Func<IPage, Task> steps)
    {
        Skip.If(Unavailable is not null, Unavailable);
        var page = await SignedInPageAsync();
        try
        {
            await steps(page);
        }
        catch (Exception e) when (e is not SkipException)
        {
            await DashboardBrowser.ScreenshotAsync(page, "failure-" + name);
            throw new InvalidOperationException($"{e.Message}\nbrowser:\n{DashboardBrowser.RecentLog()}\ndashboard log:\n{Dashboard.ReadLog()}", e);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

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

