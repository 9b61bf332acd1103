namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// A claim is a lease fenced by its attempt number: a worker that loses it, frozen or cut off from the database,
/// stops its job and writes nothing more for the run, while another attempt completes it once.
/// </summary>
[Trait("Level", "processes")]
public sealed class LeaseFencingTests : PhotoJobSystemTests
{
    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_worker_frozen_past_the_stale_period_writes_nothing_after_it_resumes_and_the_run_completes_once()
    {
        var first = await system.StartWorkerAsync();
        var submit = PhotoRuns.Submit(steps: 240, checkpointEvery: 20);
        await system.Bus.Publish(submit);
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == submit.RunId), TimeSpan.FromMinutes(2), "a first checkpoint");
        await system.StartWorkerAsync(); // idle until the run is handed on

        first.Pause();
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == submit.RunId && c.Attempt == 2),
            TimeSpan.FromMinutes(2), "the second worker's first checkpoint (attempt 2)");
        var beforeResume = await FirstAttemptTraceAsync(submit.RunId);
        first.Resume();

        // Once it says so, the worker has stopped the attempt: the files are compared then, before the new attempt's
        // pruning could remove what the old one wrote; the rows once more at the end.
        await first.WaitForOutputAsync($"Lost the lease on run {submit.RunId}", TimeSpan.FromSeconds(30));
        AssertWroteNothing(beforeResume, await FirstAttemptTraceAsync(submit.RunId));
        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status != RunStatus.Running && r.Status != RunStatus.Queued),
            TimeSpan.FromMinutes(4), "the run's end");
        Assert.True(run.Status == RunStatus.Completed, $"the run ended {run.Status}: {run.Error}");
        Assert.Equal(2, run.Attempts);
        Assert.Equal(240, run.Step);
        await system.WaitForEventAsync<RunCompleted>(e => e.RunId == submit.RunId, TimeSpan.FromSeconds(30), "RunCompleted");
        var completions = await system.WaitUntilSettledAsync([], () => Task.FromResult($"{system.EventsOf<RunCompleted>().Count(e => e.RunId == submit.RunId)} completed"),
            "the attempts' ends");
        Assert.Equal("1 completed", completions);
        Assert.False(first.HasExited, "the frozen worker crashed after it resumed");
        AssertWroteNothing(beforeResume, (await FirstAttemptTraceAsync(submit.RunId)) with { Files = [] });
        await using var db = system.Db();
        Assert.Equal(1, await db.RunEvents.CountAsync(e => e.RunId == submit.RunId && e.Kind == RunEventKind.Completed));
        var points = await db.MetricPoints.Where(m => m.RunId == submit.RunId && m.Name == "train_loss").Select(m => m.Step).ToListAsync();
        Assert.Equal(24, points.Count);
    }

    [Fact]
    public async Task A_worker_cut_off_from_postgres_for_longer_than_the_stale_period_stops_its_job()
    {
        var (proxy, settings) = system.PostgresThroughProxy();
        await using var _ = proxy;
        var worker = await system.StartWorkerAsync(settings);
        var submit = PhotoRuns.Submit(steps: 240, checkpointEvery: 20);
        await system.Bus.Publish(submit);
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == submit.RunId), TimeSpan.FromMinutes(2), "a first checkpoint");

        var cut = DateTime.UtcNow;
        await proxy.CutAsync();
        await worker.WaitForOutputAsync($"Lost the lease on run {submit.RunId}", StaleAfter + TimeSpan.FromSeconds(30));
        // The lease runs out the stale period after its last renewal, at most a heartbeat interval (0.5 s) before the cut.
        var stoppedAfter = DateTime.UtcNow - cut;
        Assert.True(stoppedAfter >= StaleAfter - TimeSpan.FromSeconds(1), $"the job stopped {stoppedAfter.TotalSeconds:F1} s after the cut, before its lease could have expired");

        // Stopped: while the database is still out of reach, no checkpoint is written any more.
        var files = string.Join(", ", CheckpointFiles(submit.RunId));
        Assert.Equal(files, await system.WaitUntilSettledAsync([], () => Task.FromResult(string.Join(", ", CheckpointFiles(submit.RunId))), "the stopped job's files"));

        proxy.Restore();
        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status != RunStatus.Running && r.Status != RunStatus.Queued),
            TimeSpan.FromMinutes(4), "the run's end");
        Assert.True(run.Status == RunStatus.Completed, $"the run ended {run.Status}: {run.Error}");
        Assert.Equal(2, run.Attempts);
        await using var db = system.Db();
        var steps = await db.MetricPoints.Where(m => m.RunId == submit.RunId && m.Name == "train_loss").OrderBy(m => m.Step).Select(m => m.Step).ToListAsync();
        Assert.Equal(Enumerable.Range(1, 24).Select(i => i * 10L), steps);
    }

    private static void AssertWroteNothing(FirstAttempt before, FirstAttempt after)
    {
        Assert.True(after.Metrics.IsSubsetOf(before.Metrics),
            $"the frozen worker wrote metric points after it resumed: {string.Join(", ", after.Metrics.Except(before.Metrics).Take(5))}");
        Assert.True(after.Checkpoints.IsSubsetOf(before.Checkpoints),
            $"the frozen worker recorded checkpoints after it resumed: {string.Join(", ", after.Checkpoints.Except(before.Checkpoints))}");
        Assert.True(after.Files.IsSubsetOf(before.Files),
            $"the frozen worker wrote checkpoint files after it resumed: {string.Join(", ", after.Files.Except(before.Files).Take(5))}");
        Assert.True(after.Events == before.Events, $"the frozen worker wrote {after.Events - before.Events} events after it resumed");
    }

    /// <summary>What attempt 1 left: its metric points, checkpoint rows, events and checkpoint directories.</summary>
    private sealed record FirstAttempt(HashSet<string> Metrics, HashSet<string> Checkpoints, int Events, HashSet<string> Files);

    private async Task<FirstAttempt> FirstAttemptTraceAsync(Guid runId)
    {
        await using var db = system.Db();
        var metrics = await db.MetricPoints.Where(m => m.RunId == runId && m.Attempt == 1).ToListAsync();
        var checkpoints = await db.Checkpoints.Where(c => c.RunId == runId && c.Attempt == 1).ToListAsync();
        int events = await db.RunEvents.CountAsync(e => e.RunId == runId && e.Attempt == 1);
        return new FirstAttempt(
            metrics.Select(m => $"{m.Name}@{m.Step}={m.Value:R}").ToHashSet(),
            checkpoints.Select(c => $"{c.Step}:{c.Path}").ToHashSet(),
            events,
            CheckpointFiles(runId).Where(name => name.Contains("-a1")).ToHashSet());
    }

    private HashSet<string> CheckpointFiles(Guid runId)
    {
        var folder = Path.Combine(system.ArtifactRoot, "runs", runId.ToString("N"), "checkpoints");
        return Directory.Exists(folder)
            ? Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(folder, p)).ToHashSet()
            : [];
    }
}
