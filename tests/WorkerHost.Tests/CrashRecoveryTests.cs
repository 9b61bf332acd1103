using MassTransit;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Testing;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Runs outlive their workers and the broker's acknowledgement timeout.</summary>
public sealed class CrashRecoveryTests : PhotoJobSystemTests
{
    [Fact]
    public async Task A_worker_killed_mid_run_leaves_a_run_that_a_second_worker_resumes_from_its_latest_checkpoint_and_completes()
    {
        var first = await system.StartWorkerAsync();
        var submit = PhotoRuns.Submit(steps: 60, inputSize: 96, checkpointEvery: 10);
        await system.Bus.Publish(submit);
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == submit.RunId && c.Step == 20),
            TimeSpan.FromMinutes(3), "the checkpoint at step 20");
        await system.WaitForAsync(db => db.MetricPoints.FirstOrDefaultAsync(m => m.RunId == submit.RunId && m.Step >= 24),
            TimeSpan.FromMinutes(1), "steps past the checkpoint");

        first.Kill();
        long recordedStep;
        await using (var db = system.Db())
        {
            recordedStep = await db.MetricPoints.Where(m => m.RunId == submit.RunId).MaxAsync(m => m.Step);
            Assert.Equal(RunStatus.Running, (await db.Runs.SingleAsync(r => r.Id == submit.RunId)).Status);
        }
        // The newest complete checkpoint on disk (the database may not have heard of it before the kill).
        var runDirectory = Path.Combine(system.ArtifactRoot, "runs", submit.RunId.ToString("N"));
        long latestCheckpoint = new Vision.Training.CheckpointStore(runDirectory, 5).List().Max(c => c.Step);
        Assert.True(latestCheckpoint >= recordedStep - 10, $"checkpoint {latestCheckpoint} is more than one interval behind step {recordedStep}");
        await system.StartWorkerAsync();

        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status == RunStatus.Completed),
            TimeSpan.FromMinutes(4), "the resumed run's completion");
        Assert.Equal(60, run.Step);
        Assert.Equal(2, run.Attempts);
        await using (var db = system.Db())
        {
            var events = await db.RunEvents.Where(e => e.RunId == submit.RunId).OrderBy(e => e.Id).ToListAsync();
            Assert.Contains(events, e => e.Kind == "requeued");
            var resumed = Assert.Single(events, e => e.Kind == "resumed");
            Assert.Contains($"at step {latestCheckpoint} ", resumed.Message);

            var points = await db.MetricPoints.Where(m => m.RunId == submit.RunId).ToListAsync();
            Assert.Equal(points.Count, points.Select(p => (p.Name, p.Step)).Distinct().Count());
            Assert.Equal(Enumerable.Range(1, 6).Select(i => i * 10L), points.Where(p => p.Name == "train_loss").Select(p => p.Step).Order());
        }
        await system.WaitForEventAsync<RunCompleted>(e => e.RunId == submit.RunId, TimeSpan.FromSeconds(30), "RunCompleted");
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
