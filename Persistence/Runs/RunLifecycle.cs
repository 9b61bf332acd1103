using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Runs;

/// <summary>
/// The one owner of a run's life: every change of a run's state and every write for a run goes through here, from
/// queueing to the end. A claim is a lease whose fencing token is the attempt number: each write of an attempt names
/// it and is refused, in the same transaction that would make it, once a later attempt holds the run or the run is no
/// longer running. Claims use <c>FOR UPDATE SKIP LOCKED</c>, so any number of workers share one database; times
/// come from the database clock.
/// </summary>
public sealed class RunLifecycle(JobsDbContext db)
{
    /// <summary>A running run whose lease was not renewed for this long is presumed orphaned (the worker's default, and what the dashboard calls stale).</summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromSeconds(60);

    public Task<Run?> FindAsync(Guid runId, CancellationToken cancellationToken) =>
        db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);

    /// <summary>
    /// Records an accepted command's run as queued, with its "queued" event, in one transaction. False when the
    /// command's id was recorded before (a concurrent delivery, or the same id rejected earlier): nothing is written.
    /// </summary>
    public async Task<bool> QueueAsync(Run run, ProcessedCommand accepted, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await new Commands.CommandLog(db).TryRecordAsync(accepted, cancellationToken)) return false;
        run.Status = RunStatus.Queued;
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.RunEvents.Add(Event(run.Id, RunEventKind.Queued, $"queued: {run.Name}"));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return true;
    }

    /// <summary>Claims the oldest queued run of the given kinds for a new attempt, or returns null when there is none.</summary>
    public async Task<ClaimedRun?> ClaimNextAsync(string worker, IReadOnlyCollection<RunKind> kinds, CancellationToken cancellationToken)
    {
        var claimed = await db.Runs.FromSqlRaw(
                """
                UPDATE runs SET status = 'Running', worker = @worker, heartbeat_at = now(),
                       started_at = coalesce(started_at, now()), attempts = attempts + 1, error = NULL
                WHERE id = (
                    SELECT id FROM runs
                    WHERE status = 'Queued' AND NOT cancel_requested AND kind = ANY(@kinds)
                    ORDER BY created_at
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                RETURNING *
                """,
                new NpgsqlParameter("worker", worker),
                new NpgsqlParameter("kinds", kinds.Select(k => k.ToString()).ToArray()))
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        return claimed.SingleOrDefault() is { } run ? new ClaimedRun(run, new RunLease(run.Id, run.Attempts)) : null;
    }

    /// <summary>Renews the lease and records how far the run is; says whether a cancel was asked for, or that the lease is lost.</summary>
    public async Task<LeaseState> RenewAsync(RunLease lease, RunProgress? progress, CancellationToken cancellationToken)
    {
        var result = await db.Database.SqlQueryRaw<bool>(
                """
                UPDATE runs SET heartbeat_at = now(),
                       step = coalesce(@step, step), total_steps = coalesce(@total, total_steps), epoch = coalesce(@epoch, epoch),
                       images_per_second = coalesce(@ips, images_per_second), eta_seconds = @eta,
                       last_top1 = coalesce(@top1, last_top1), last_top5 = coalesce(@top5, last_top5),
                       last_loss = coalesce(@loss, last_loss), best_top1 = coalesce(@best, best_top1)
                WHERE id = @id AND attempts = @attempt AND status = 'Running'
                RETURNING cancel_requested AS "Value"
                """,
                [
                    new NpgsqlParameter("id", lease.RunId),
                    new NpgsqlParameter("attempt", lease.Attempt),
                    .. ProgressParameters(progress),
                ])
            .ToListAsync(cancellationToken);
        return result.Count == 0 ? LeaseState.Lost : result[0] ? LeaseState.CancelRequested : LeaseState.Held;
    }

    /// <summary>
    /// Writes what an attempt produced since its last write (metric points, checkpoints, events) in one transaction;
    /// false, with nothing written, when the attempt no longer holds the run. A metric point already recorded for the
    /// same name and step (a resumed run repeating the steps after its newest checkpoint) is overwritten, so the
    /// history never holds duplicates.
    /// </summary>
    public Task<bool> RecordAsync(RunLease lease, AttemptRecords records, CancellationToken cancellationToken)
    {
        if (records.IsEmpty) return Task.FromResult(true);
        return WhileHeldAsync(lease, async () =>
        {
            await UpsertMetricsAsync(lease, records.Metrics, cancellationToken);
            foreach (var checkpoint in records.Checkpoints) await UpsertCheckpointAsync(lease, checkpoint, cancellationToken);
            if (records.Events.Count > 0)
            {
                db.RunEvents.AddRange(records.Events.Select(e => Event(lease.RunId, e.Kind, e.Message, e.Level, lease.Attempt, e.Time)));
                await db.SaveChangesAsync(cancellationToken);
            }
        }, cancellationToken);
    }

    /// <summary>Ends the attempt's run (completed, failed or cancelled) with its last progress; false when the attempt no longer holds it.</summary>
    public Task<bool> FinishAsync(RunLease lease, RunProgress? progress, RunEnding ending, CancellationToken cancellationToken) =>
        WhileHeldAsync(lease, async () =>
        {
            await RenewAsync(lease, progress, cancellationToken);
            if (ending.Status == RunStatus.Completed)
            {
                await db.Runs.Where(r => r.Id == lease.RunId).ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.LastTop1, ending.Top1)
                    .SetProperty(r => r.LastTop5, ending.Top5)
                    .SetProperty(r => r.BestTop1, ending.BestTop1), cancellationToken);
            }
            await db.Runs.Where(r => r.Id == lease.RunId).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, ending.Status)
                .SetProperty(r => r.FinishedAt, DateTimeOffset.UtcNow)
                .SetProperty(r => r.Error, ending.Error)
                .SetProperty(r => r.EtaSeconds, (double?)null)
                .SetProperty(r => r.Worker, (string?)null), cancellationToken);
            if (ending.Evaluation is { } evaluation) db.EvaluationResults.Add(evaluation);
            if (ending.Event is { } ended) db.RunEvents.Add(Event(lease.RunId, ended.Kind, ended.Message, ended.Level, lease.Attempt));
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Puts the attempt's run back in the queue (its worker is shutting down); false when the attempt no longer holds it.</summary>
    public Task<bool> ReleaseAsync(RunLease lease, RunProgress? progress, string message, CancellationToken cancellationToken) =>
        WhileHeldAsync(lease, async () =>
        {
            await RenewAsync(lease, progress, cancellationToken);
            await db.Runs.Where(r => r.Id == lease.RunId).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, RunStatus.Queued)
                .SetProperty(r => r.Worker, (string?)null)
                .SetProperty(r => r.EtaSeconds, (double?)null), cancellationToken);
            db.RunEvents.Add(Event(lease.RunId, RunEventKind.Released, message, "warning", lease.Attempt));
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Queues again, each with a "requeued" event, the running runs whose lease was not renewed for
    /// <paramref name="staleAfter"/>; returns their ids. Their attempts can write nothing more.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RequeueStaleAsync(TimeSpan staleAfter, CancellationToken cancellationToken) =>
        await db.Database.SqlQueryRaw<Guid>(
                """
                WITH requeued AS (
                    UPDATE runs SET status = 'Queued', worker = NULL
                    WHERE status = 'Running' AND heartbeat_at < now() - @stale
                    RETURNING id, attempts),
                logged AS (
                    INSERT INTO run_events (run_id, time, kind, level, message, attempt)
                    SELECT id, now(), @kind, 'warning', @message, attempts FROM requeued)
                SELECT id AS "Value" FROM requeued
                """,
                new NpgsqlParameter("stale", staleAfter),
                new NpgsqlParameter("kind", RunEventKinds.Name(RunEventKind.Requeued)),
                new NpgsqlParameter("message",
                    $"no heartbeat for {staleAfter.TotalSeconds:F0} s: the worker is presumed dead; queued to resume from the newest checkpoint"))
            .ToListAsync(cancellationToken);

    /// <summary>
    /// Cancels a queued or running run: a queued one at once (true), a running one by flagging it for the attempt
    /// that holds it, after which <paramref name="stopHere"/> stops it at once if it runs in this process and returns
    /// the step it had reached. The request is logged as an event.
    /// </summary>
    public async Task<bool> CancelAsync(Guid runId, string reason, Func<long?> stopHere, CancellationToken cancellationToken)
    {
        int cancelledWhileQueued = await db.Runs
            .Where(r => r.Id == runId && r.Status == RunStatus.Queued)
            .ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.CancelReason, reason)
                .SetProperty(r => r.FinishedAt, DateTimeOffset.UtcNow), cancellationToken);
        string message = reason;
        if (cancelledWhileQueued == 0)
        {
            await db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.Running)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.CancelReason, reason), cancellationToken);
            if (stopHere() is { } step) message = $"{reason} (at step {step} on this worker)";
        }
        db.RunEvents.Add(Event(runId, RunEventKind.CancelRequested, message, "warning"));
        await db.SaveChangesAsync(cancellationToken);
        return cancelledWhileQueued > 0;
    }

    /// <summary>Queues a cancelled or failed run again, to resume from its newest checkpoint; false when it is neither.</summary>
    public async Task<bool> ResumeAsync(Guid runId, CancellationToken cancellationToken)
    {
        int queued = await db.Runs
            .Where(r => r.Id == runId && (r.Status == RunStatus.Cancelled || r.Status == RunStatus.Failed))
            .ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, RunStatus.Queued)
                .SetProperty(r => r.CancelRequested, false)
                .SetProperty(r => r.CancelReason, (string?)null)
                .SetProperty(r => r.Error, (string?)null)
                .SetProperty(r => r.FinishedAt, (DateTimeOffset?)null), cancellationToken);
        if (queued == 0) return false;
        db.RunEvents.Add(Event(runId, RunEventKind.ResumeRequested, "queued to resume from the newest checkpoint"));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>The directory of the run's newest recorded checkpoint, where a new attempt resumes; null when it has none.</summary>
    public Task<string?> NewestCheckpointAsync(Guid runId, CancellationToken cancellationToken) =>
        db.Checkpoints.Where(c => c.RunId == runId).OrderByDescending(c => c.Step).Select(c => c.Path).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Why the run was cancelled, as the cancel command said.</summary>
    public Task<string?> CancelReasonAsync(Guid runId, CancellationToken cancellationToken) =>
        db.Runs.Where(r => r.Id == runId).Select(r => r.CancelReason).FirstOrDefaultAsync(cancellationToken);

    /// <summary>Runs <paramref name="write"/> in a transaction that holds the run's row, if the lease's attempt still holds the run.</summary>
    private async Task<bool> WhileHeldAsync(RunLease lease, Func<Task> write, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // A worker paused in the middle of this transaction (SIGSTOP, a long GC) would hold the run's row and keep the
        // stale monitor from handing the run on; the server ends such a transaction instead.
        await db.Database.ExecuteSqlRawAsync("SET LOCAL idle_in_transaction_session_timeout = '3s'", cancellationToken);
        var held = await db.Database.SqlQueryRaw<int>(
                """SELECT 1 AS "Value" FROM runs WHERE id = @id AND attempts = @attempt AND status = 'Running' FOR UPDATE""",
                new NpgsqlParameter("id", lease.RunId),
                new NpgsqlParameter("attempt", lease.Attempt))
            .ToListAsync(cancellationToken);
        if (held.Count == 0) return false;
        await write();
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return true;
    }

    private async Task UpsertMetricsAsync(RunLease lease, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        if (points.Count == 0) return;
        // The last value for a (name, step) within the batch wins; ON CONFLICT cannot touch a row twice.
        var unique = points.GroupBy(p => (p.Name, p.Step)).Select(g => g.Last()).ToArray();
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO metric_points (run_id, step, epoch, name, value, time, attempt)
            SELECT @run, x.step, x.epoch, x.name, x.value, x.time, @attempt
            FROM unnest(@steps, @epochs, @names, @values, @times) AS x(step, epoch, name, value, time)
            ON CONFLICT (run_id, name, step) DO UPDATE
                SET value = excluded.value, epoch = excluded.epoch, time = excluded.time, attempt = excluded.attempt
            """,
            [
                new NpgsqlParameter("run", lease.RunId),
                new NpgsqlParameter("attempt", lease.Attempt),
                new NpgsqlParameter("steps", unique.Select(p => p.Step).ToArray()),
                new NpgsqlParameter("epochs", unique.Select(p => p.Epoch).ToArray()),
                new NpgsqlParameter("names", unique.Select(p => p.Name).ToArray()),
                new NpgsqlParameter("values", unique.Select(p => p.Value).ToArray()),
                new NpgsqlParameter("times", unique.Select(p => p.Time.ToUniversalTime()).ToArray()),
            ],
            cancellationToken);
    }

    /// <summary>Records a checkpoint; a later attempt that writes the same step again replaces the row with its own directory.</summary>
    private async Task UpsertCheckpointAsync(RunLease lease, Checkpoint checkpoint, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO checkpoints (run_id, step, epoch, path, attempt, metrics_json, created_at)
            VALUES (@run, @step, @epoch, @path, @attempt, @metrics::jsonb, now())
            ON CONFLICT (run_id, step) DO UPDATE
                SET path = excluded.path, attempt = excluded.attempt, metrics_json = excluded.metrics_json, created_at = excluded.created_at
            """,
            [
                new NpgsqlParameter("run", lease.RunId),
                new NpgsqlParameter("step", checkpoint.Step),
                new NpgsqlParameter("epoch", checkpoint.Epoch),
                new NpgsqlParameter("path", checkpoint.Path),
                new NpgsqlParameter("attempt", lease.Attempt),
                new NpgsqlParameter("metrics", checkpoint.MetricsJson),
            ],
            cancellationToken);

    private static RunEvent Event(Guid runId, RunEventKind kind, string message, string level = "info", int? attempt = null, DateTimeOffset? time = null) => new()
    {
        RunId = runId, Kind = kind, Level = level, Attempt = attempt, Time = time ?? DateTimeOffset.UtcNow,
        Message = message.Length > 4000 ? message[..4000] : message,
    };

    private static IEnumerable<NpgsqlParameter> ProgressParameters(RunProgress? progress) =>
    [
        Nullable("step", progress?.Step, NpgsqlDbType.Bigint),
        Nullable("total", progress?.TotalSteps, NpgsqlDbType.Bigint),
        Nullable("epoch", progress?.Epoch, NpgsqlDbType.Integer),
        Nullable("ips", progress?.ImagesPerSecond, NpgsqlDbType.Double),
        Nullable("eta", progress?.EtaSeconds, NpgsqlDbType.Double),
        Nullable("top1", progress?.LastTop1, NpgsqlDbType.Double),
        Nullable("top5", progress?.LastTop5, NpgsqlDbType.Double),
        Nullable("loss", progress?.LastLoss, NpgsqlDbType.Double),
        Nullable("best", progress?.BestTop1, NpgsqlDbType.Double),
    ];

    private static NpgsqlParameter Nullable<T>(string name, T? value, NpgsqlDbType type) =>
        new(name, type) { Value = value is null ? DBNull.Value : value };
}
