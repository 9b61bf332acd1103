using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Runs;
using SqueezeNext.WorkerHost.Consumers;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Tests.Lifecycle;

/// <summary>The run lifecycle in process on the real PostgreSQL: every state change, and the fencing of each write by its attempt.</summary>
[Trait("Level", "in-process")]
public sealed class RunLifecycleTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private JobsDbContext lifecycleDb = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        lifecycleDb = system.Db();
        await lifecycleDb.Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await lifecycleDb.DisposeAsync();
        await system.DisposeAsync();
    }

    [Fact]
    public async Task Writes_of_an_attempt_are_refused_once_a_later_attempt_holds_the_run()
    {
        var runId = await QueueAsync();
        var first = (await Lifecycle().ClaimNextAsync("worker-a", [RunKind.Training], default))!.Lease;
        Assert.Equal(1, first.Attempt);
        Assert.True(await Lifecycle().RecordAsync(first, Records(first, step: 10), default));

        // A stale period below zero makes every running run's heartbeat stale, without waiting for one to age.
        Assert.Equal([runId], await Lifecycle().RequeueStaleAsync(TimeSpan.FromSeconds(-1), default));
        // Requeued: the old attempt can write nothing even before anyone claims the run again.
        Assert.False(await Lifecycle().RecordAsync(first, Records(first, step: 20), default));
        var second = (await Lifecycle().ClaimNextAsync("worker-b", [RunKind.Training], default))!.Lease;
        Assert.Equal(2, second.Attempt);

        Assert.False(await Lifecycle().RecordAsync(first, Records(first, step: 30), default));
        Assert.Equal(LeaseState.Lost, await Lifecycle().RenewAsync(first, Progress(30), default));
        Assert.False(await Lifecycle().ReleaseAsync(first, Progress(30), "shutting down", default));
        Assert.False(await Lifecycle().FinishAsync(first, Progress(30), new RunEnding(RunStatus.Failed, null, "stale"), default));
        Assert.Equal(LeaseState.Held, await Lifecycle().RenewAsync(second, Progress(15), default));
        Assert.True(await Lifecycle().RecordAsync(second, Records(second, step: 20), default));
        Assert.True(await Lifecycle().FinishAsync(second, Progress(20), new RunEnding(RunStatus.Completed, null, Top1: 0.5), default));

        await using var db = system.Db();
        var run = await db.Runs.SingleAsync(r => r.Id == runId);
        Assert.Equal((RunStatus.Completed, 20L, 2, (string?)null, 0.5), (run.Status, run.Step, run.Attempts, run.Error, run.LastTop1!.Value));
        Assert.Equal([(10L, 1), (20L, 2)], (await db.MetricPoints.Where(m => m.RunId == runId).OrderBy(m => m.Step).ToListAsync()).Select(m => (m.Step, m.Attempt)));
        Assert.Equal([(10L, 1), (20L, 2)], (await db.Checkpoints.Where(c => c.RunId == runId).OrderBy(c => c.Step).ToListAsync()).Select(c => (c.Step, c.Attempt)));
        var events = await db.RunEvents.Where(e => e.RunId == runId).OrderBy(e => e.Id).Select(e => new { e.Kind, e.Attempt }).ToListAsync();
        Assert.Equal([RunEventKind.Queued, RunEventKind.Evaluated, RunEventKind.Requeued, RunEventKind.Evaluated], events.Select(e => e.Kind));
        Assert.Equal([null, 1, 1, 2], events.Select(e => e.Attempt));
        Assert.False(await Lifecycle().RecordAsync(second, Records(second, step: 30), default), "a finished run took writes");
    }

    [Fact]
    public async Task A_repeated_step_overwrites_its_metric_point_and_checkpoint_with_the_new_attempts()
    {
        var runId = await QueueAsync();
        var first = (await Lifecycle().ClaimNextAsync("worker-a", [RunKind.Training], default))!.Lease;
        Assert.True(await Lifecycle().RecordAsync(first, Records(first, step: 10, value: 1.0), default));
        Assert.True(await Lifecycle().ReleaseAsync(first, Progress(10), "shutting down", default));
        var second = (await Lifecycle().ClaimNextAsync("worker-a", [RunKind.Training], default))!.Lease;
        Assert.True(await Lifecycle().RecordAsync(second, Records(second, step: 10, value: 2.0), default));

        await using var db = system.Db();
        var point = await db.MetricPoints.SingleAsync(m => m.RunId == runId);
        Assert.Equal((2.0, 2), (point.Value, point.Attempt));
        var checkpoint = await db.Checkpoints.SingleAsync(c => c.RunId == runId);
        Assert.Equal(("ckpt-10-a2", 2), (checkpoint.Path, checkpoint.Attempt));
        Assert.Equal("ckpt-10-a2", await Lifecycle().NewestCheckpointAsync(runId, default));
        Assert.Single(await db.RunEvents.Where(e => e.RunId == runId && e.Kind == RunEventKind.Released).ToListAsync());
    }

    [Fact]
    public async Task Warming_up_the_lease_queries_changes_no_run()
    {
        var queuedId = await QueueAsync();
        var runningId = await QueueAsync();
        var lease = (await Lifecycle().ClaimNextAsync("worker-a", [RunKind.Training], default))!.Lease;
        Assert.Equal(LeaseState.Held, await Lifecycle().RenewAsync(lease, Progress(7), default));
        await using var before = system.Db();
        var runs = await before.Runs.AsNoTracking().Where(r => r.Id == queuedId || r.Id == runningId).OrderBy(r => r.Id).ToListAsync();

        await Lifecycle().WarmUpAsync(default);

        await using var after = system.Db();
        var now = await after.Runs.AsNoTracking().Where(r => r.Id == queuedId || r.Id == runningId).OrderBy(r => r.Id).ToListAsync();
        Assert.Equal(runs.Select(r => (r.Status, r.Step, r.Attempts, r.HeartbeatAt, r.Worker)), now.Select(r => (r.Status, r.Step, r.Attempts, r.HeartbeatAt, r.Worker)));
        Assert.Equal(0, await after.RunEvents.CountAsync(e => e.RunId == Guid.Empty));
    }

    [Fact]
    public async Task Cancel_ends_a_queued_run_at_once_and_flags_a_running_one_for_its_attempt()
    {
        var queued = await QueueAsync();
        Assert.True(await Lifecycle().CancelAsync(queued, "not needed", () => throw new InvalidOperationException("a queued run runs nowhere"), default));

        var running = await QueueAsync();
        var lease = (await Lifecycle().ClaimNextAsync("worker-a", [RunKind.Training], default))!.Lease;
        Assert.Equal(running, lease.RunId);
        Assert.False(await Lifecycle().CancelAsync(running, "stop it", () => 42, default));
        Assert.Equal(LeaseState.CancelRequested, await Lifecycle().RenewAsync(lease, Progress(43), default));
        Assert.Equal("stop it", await Lifecycle().CancelReasonAsync(running, default));
        Assert.True(await Lifecycle().FinishAsync(lease, Progress(43), new RunEnding(RunStatus.Cancelled, null), default));

        Assert.True(await Lifecycle().ResumeAsync(queued, default), "a cancelled run did not resume");
        await using var db = system.Db();
        Assert.Equal(RunStatus.Queued, (await db.Runs.SingleAsync(r => r.Id == queued)).Status);
        Assert.Equal(RunStatus.Cancelled, (await db.Runs.SingleAsync(r => r.Id == running)).Status);
        var requested = await db.RunEvents.SingleAsync(e => e.RunId == running && e.Kind == RunEventKind.CancelRequested);
        Assert.Equal("stop it (at step 42 on this worker)", requested.Message);
        Assert.Single(await db.RunEvents.Where(e => e.RunId == queued && e.Kind == RunEventKind.ResumeRequested).ToListAsync());
    }

    [Fact]
    public async Task A_command_id_is_queued_once()
    {
        var run = NewRun();
        Assert.True(await Lifecycle().QueueAsync(run, CommandRecorder.Accepted(run.Id, new { run.Id }), default));
        var again = NewRun(run.Id);
        Assert.False(await Lifecycle().QueueAsync(again, CommandRecorder.Accepted(run.Id, new { run.Id }), default));
        await using var db = system.Db();
        Assert.Equal(1, await db.Runs.CountAsync());
        Assert.Equal(1, await db.RunEvents.CountAsync(e => e.Kind == RunEventKind.Queued));
    }

    [Fact]
    public async Task Every_event_kind_is_stored_under_its_name_and_every_engine_event_has_one()
    {
        var runId = await QueueAsync();
        var lease = (await Lifecycle().ClaimNextAsync("worker-a", [RunKind.Training], default))!.Lease;
        var kinds = Enum.GetValues<RunEventKind>();
        var events = kinds.Select(kind => new RunEvent { RunId = runId, Kind = kind, Message = kind.ToString(), Time = DateTimeOffset.UtcNow }).ToList();
        Assert.True(await Lifecycle().RecordAsync(lease, new AttemptRecords([], [], events), default));

        await using var db = system.Db();
        var stored = await db.Database.SqlQueryRaw<string>("SELECT kind AS \"Value\" FROM run_events WHERE message <> 'queued: test run' ORDER BY id").ToListAsync();
        Assert.Equal(kinds.Select(RunEventKinds.Name), stored);
        Assert.Contains("cancel-requested", stored);
        Assert.All(Enum.GetValues<Vision.Training.TrainingEventKind>(), kind => Assert.Equal(kind.ToString(), RunRecorder.KindOf(kind).ToString()));
    }

    private RunLifecycle Lifecycle() => new(lifecycleDb);

    private async Task<Guid> QueueAsync()
    {
        var run = NewRun();
        Assert.True(await Lifecycle().QueueAsync(run, CommandRecorder.Accepted(run.Id, new { run.Id }), default));
        await Task.Delay(5);
        return run.Id;
    }

    private static Run NewRun(Guid? id = null) => new()
    {
        Id = id ?? Guid.NewGuid(), Kind = RunKind.Training, Name = "test run", ConfigurationName = "test", Dataset = "photos", CreatedAt = DateTimeOffset.UtcNow,
    };

    private static RunProgress Progress(long step) => new(step, 100, 0, null, null, null, null, null, null);

    private static AttemptRecords Records(RunLease lease, long step, double value = 1.0) => new(
        [new MetricPoint { RunId = lease.RunId, Step = step, Name = "train_loss", Value = value, Time = DateTimeOffset.UtcNow }],
        [new Checkpoint { RunId = lease.RunId, Step = step, Path = $"ckpt-{step}-a{lease.Attempt}", MetricsJson = "{}" }],
        [new RunEvent { RunId = lease.RunId, Kind = RunEventKind.Evaluated, Message = $"step {step}", Time = DateTimeOffset.UtcNow }]);
}
