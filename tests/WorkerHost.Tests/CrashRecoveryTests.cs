using SqueezeNext.Vision.Runtime;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Runs outlive their workers and the broker's acknowledgement timeout.</summary>
[Trait("Level", "processes")]
public sealed class CrashRecoveryTests : PhotoJobSystemTests
{
    /// <summary>
    /// One run, four workers: the first is killed in the middle of a training step, the second while it writes a
    /// checkpoint, the third while it flushes metrics (each frozen at that point by <see cref="FaultPoints"/>), the
    /// fourth finishes the run.
    /// </summary>
    [Fact]
    public async Task A_run_whose_workers_are_killed_in_a_step_a_checkpoint_write_and_a_metrics_flush_resumes_each_time_and_completes()
    {
        var submit = PhotoRuns.Submit(steps: 60, inputSize: 96, checkpointEvery: 10);
        var checkpoints = new CheckpointStore(Path.Combine(system.ArtifactRoot, "runs", submit.RunId.ToString("N")), keep: 5);
        var resumedFrom = new List<long>();

        // In its 25th step, after the backward pass: the newest checkpoint is step 20.
        var worker = await StartArmedAsync($"{FaultPoints.TrainingStep}@25");
        await system.Bus.Publish(submit);
        await KillAtAsync(worker, FaultPoints.TrainingStep, submit.RunId, recordedCheckpoint: 20);
        Assert.Equal(20, checkpoints.List().Max(c => c.Step));

        // Resumed from 20, it writes the checkpoint at 30, then is killed with the one at 40 written but not in place.
        worker = await StartArmedAsync($"{FaultPoints.CheckpointWrite}@2");
        await KillAtAsync(worker, FaultPoints.CheckpointWrite, submit.RunId, recordedCheckpoint: 30);
        Assert.Single(Directory.GetDirectories(checkpoints.Directory, ".step-00000040-a2.*.partial"));
        Assert.Equal(30, checkpoints.List().Max(c => c.Step));
        resumedFrom.Add(20);

        // Resumed from 30 (never from the partial 40), it is killed after writing the metrics of step 50 to the database.
        worker = await StartArmedAsync($"{FaultPoints.MetricsFlush}@2");
        await KillAtAsync(worker, FaultPoints.MetricsFlush, submit.RunId, recordedCheckpoint: null);
        resumedFrom.Add(30);
        long recordedStep, newest;
        await using (var db = system.Db())
        {
            recordedStep = await db.MetricPoints.Where(m => m.RunId == submit.RunId).MaxAsync(m => m.Step);
            newest = await db.Checkpoints.Where(c => c.RunId == submit.RunId).MaxAsync(c => c.Step);
        }
        Assert.Equal(50, recordedStep);
        Assert.True(newest >= recordedStep - 10, $"the newest recorded checkpoint, {newest}, is more than one interval behind step {recordedStep}");
        resumedFrom.Add(newest);

        await system.StartWorkerAsync();
        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status == RunStatus.Completed),
            TimeSpan.FromMinutes(4), "the run's completion");
        Assert.Equal(60, run.Step);
        Assert.True(run.Attempts == 4, $"{run.Attempts} attempts, not 4:\n{await AttemptHistoryAsync(submit.RunId)}");
        await using (var db = system.Db())
        {
            var resumed = await db.RunEvents.Where(e => e.RunId == submit.RunId && e.Kind == RunEventKind.Resumed).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
            Assert.Equal(resumedFrom.Count, resumed.Count);
            foreach (var (message, step) in resumed.Zip(resumedFrom))
                Assert.Contains($"at step {step} ", message);

            // One point per name and step, the steps in the order they were recorded, every logged step present once.
            var points = await db.MetricPoints.Where(m => m.RunId == submit.RunId).OrderBy(m => m.Time).ThenBy(m => m.Step).ToListAsync();
            Assert.Equal(points.Count, points.Select(p => (p.Name, p.Step)).Distinct().Count());
            Assert.Equal(points.Select(p => p.Step).Order(), points.Select(p => p.Step));
            Assert.Equal(Enumerable.Range(1, 6).Select(i => i * 10L), points.Where(p => p.Name == "train_loss").Select(p => p.Step));
        }
        await system.WaitForEventAsync<RunCompleted>(e => e.RunId == submit.RunId, TimeSpan.FromSeconds(30), "RunCompleted");
    }

    /// <summary>How each attempt began and ended, and what the workers warned of: what an unexpected attempt needs explained.</summary>
    private async Task<string> AttemptHistoryAsync(Guid runId)
    {
        await using var db = system.Db();
        var events = await db.RunEvents.Where(e => e.RunId == runId).OrderBy(e => e.Id).ToListAsync();
        var warnings = system.Logs().Split('\n').Where(line => line.Contains("lease", StringComparison.OrdinalIgnoreCase) || line.Contains("Could not"));
        return string.Join("\n", events.Select(e => $"attempt {e.Attempt}: {e.Kind}: {e.Message}").Concat(warnings));
    }

    private Task<AppProcess> StartArmedAsync(string faultPoints) =>
        system.StartWorkerAsync(new Dictionary<string, string> { [FaultPoints.EnvironmentVariable] = faultPoints });

    /// <summary>
    /// Kills the worker once it froze at <paramref name="faultPoint"/> and, where given, its supervisor (which goes on
    /// while the training thread is frozen) recorded the checkpoint at <paramref name="recordedCheckpoint"/>: a run
    /// resumes from its newest recorded checkpoint.
    /// </summary>
    private async Task KillAtAsync(AppProcess worker, string faultPoint, Guid runId, long? recordedCheckpoint)
    {
        await worker.WaitForOutputAsync($"fault point {faultPoint} reached", TimeSpan.FromMinutes(3));
        if (recordedCheckpoint is { } step)
            await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == runId && c.Step == step), TimeSpan.FromSeconds(30),
                $"the checkpoint at step {step} recorded");
        worker.Kill();
    }

    [SkippableFact]
    public async Task A_run_longer_than_the_brokers_acknowledgement_timeout_completes()
    {
        var config = Path.Combine(TestServices.ServicesDirectory, "rabbitmq", "rabbitmq.conf");
        Skip.IfNot(File.Exists(config) && File.ReadAllText(config).Contains("consumer_timeout = 10000"),
            "the test broker was not started with consumer_timeout = 10000 (scripts/test.sh starts it so)");
        await system.StartWorkerAsync();
        var submit = PhotoRuns.Submit(steps: 400, inputSize: 96, checkpointEvery: 100);
        var started = DateTime.UtcNow;

        await system.Bus.Publish(submit);

        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status != RunStatus.Queued && r.Status != RunStatus.Running),
            TimeSpan.FromMinutes(5), "the long run's end");
        Assert.True(run.Status == RunStatus.Completed, $"the run ended {run.Status}: {run.Error}");
        Assert.True(run.FinishedAt - run.StartedAt > TimeSpan.FromSeconds(12),
            $"the run took only {(run.FinishedAt - run.StartedAt)!.Value.TotalSeconds:F1} s, not longer than the 10 s timeout");
        Assert.Equal(1, run.Attempts);
        Assert.Equal(0, await system.QueueDepthAsync("submit-training"));
        Assert.DoesNotContain("PRECONDITION_FAILED", system.Logs());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(5));
    }
}
