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
/// come from the database clock (now(), in SQL and in the column defaults). An attempt's records are written in RunLifecycle.Records.cs, and the requests that
/// come from outside any attempt (cancel, resume) in RunLifecycle.Requests.cs.
/// </summary>
public sealed partial class RunLifecycle
{
    private readonly JobsDbContext db;

    // Made only by the scoped registration (RunLifecycleServices), so a lifecycle always shares its scope's context.
    internal RunLifecycle(JobsDbContext db) => this.db = db;

    /// <summary>A running run whose lease was not renewed for this long is presumed orphaned (the worker's default, and what the dashboard calls stale).</summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromSeconds(60);

    /// <summary>How many workers an import may lose before it fails: one crash may be the machine's, three are the archive's.</summary>
    public const int MaxImportAttempts = 3;

    public Task<Run?> FindAsync(Guid runId, CancellationToken cancellationToken) =>
        db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);

    /// <summary>
    /// Records an accepted command's run as queued, with its "queued" event, in one transaction. False when the
    /// command's id was recorded before (a concurrent delivery, or the same id rejected earlier): nothing is written.
    /// </summary>
    public async Task<bool> QueueAsync(Run run, ProcessedCommand accepted, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await new Idempotency.CommandLog(db).TryRecordAsync(accepted, cancellationToken)) return false;
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
    /// Runs the renewal and the newest-checkpoint query once against no run, so that a new attempt's first renewal
    /// does not pay for compiling them: in a cold worker on a slow machine that cost alone has outlasted a short lease.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        var nobody = new RunLease(Guid.Empty, 0);
        await RenewAsync(nobody, null, cancellationToken);
        await RenewAsync(nobody, new RunProgress(0, 0, 0, 0, 0, 0, 0, 0, 0), cancellationToken);
        await NewestCheckpointAsync(Guid.Empty, cancellationToken);
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
                .SetProperty(r => r.FinishedAt, r => DateTimeOffset.UtcNow)
                .SetProperty(r => r.Error, ending.Error)
                .SetProperty(r => r.EtaSeconds, (double?)null)
                .SetProperty(r => r.Worker, (string?)null), cancellationToken);
            if (ending.Evaluation is { } evaluation) db.EvaluationResults.Add(evaluation);
            await FinishImportAsync(lease, ending, cancellationToken);
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
    /// <paramref name="staleAfter"/>; returns their ids. Their attempts can write nothing more. An import whose worker
    /// died <see cref="MaxImportAttempts"/> times fails instead, with its version: an archive that kills the worker
    /// reading it would otherwise take down every worker in turn.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RequeueStaleAsync(TimeSpan staleAfter, CancellationToken cancellationToken) =>
        await db.Database.SqlQueryRaw<Guid>(
                """
                WITH stale AS (
                    SELECT id, kind = 'Import' AND attempts >= @maxImportAttempts AS give_up FROM runs
                    WHERE status = 'Running' AND heartbeat_at < now() - @stale),
                failed AS (
                    UPDATE runs SET status = 'Failed', worker = NULL, finished_at = now(), error = @failure
                    FROM stale WHERE runs.id = stale.id AND stale.give_up
                    RETURNING runs.id, runs.attempts),
                failed_versions AS (
                    UPDATE dataset_versions SET status = 'Failed', error = @failure
                    WHERE import_run_id IN (SELECT id FROM failed) AND status = 'Importing'),
                failed_logged AS (
                    INSERT INTO run_events (run_id, time, kind, level, message, attempt)
                    SELECT id, now(), @failedKind, 'error', @failure, attempts FROM failed),
                requeued AS (
                    UPDATE runs SET status = 'Queued', worker = NULL
                    FROM stale WHERE runs.id = stale.id AND NOT stale.give_up
                    RETURNING runs.id, runs.attempts),
                logged AS (
                    INSERT INTO run_events (run_id, time, kind, level, message, attempt)
                    SELECT id, now(), @kind, 'warning', @message, attempts FROM requeued)
                SELECT id AS "Value" FROM requeued
                """,
                new NpgsqlParameter("stale", staleAfter),
                new NpgsqlParameter("maxImportAttempts", MaxImportAttempts),
                new NpgsqlParameter("kind", RunEventKinds.Name(RunEventKind.Requeued)),
                new NpgsqlParameter("failedKind", RunEventKinds.Name(RunEventKind.Failed)),
                new NpgsqlParameter("failure",
                    $"the worker importing this archive stopped {MaxImportAttempts} times without a word (killed, or out of memory); the archive is not tried again"),
                new NpgsqlParameter("message",
                    $"no heartbeat for {staleAfter.TotalSeconds:F0} s: the worker is presumed dead; queued to resume from the newest checkpoint"))
            .ToListAsync(cancellationToken);

    /// <summary>The directory of the run's newest recorded checkpoint, where a new attempt resumes; null when it has none.</summary>
    public Task<string?> NewestCheckpointAsync(Guid runId, CancellationToken cancellationToken) =>
        db.Checkpoints.Where(c => c.RunId == runId).OrderByDescending(c => c.Step).Select(c => c.Path).FirstOrDefaultAsync(cancellationToken);

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

    /// <summary>An event to add; its time is the database's, by the column's default.</summary>
    private static RunEvent Event(Guid runId, RunEventKind kind, string message, string level = "info", int? attempt = null) => new()
    {
        RunId = runId, Kind = kind, Level = level, Attempt = attempt,
        Message = message.Length > 4000 ? message[..4000] : message,
    };

    /// <summary>The database clock, for a time that an entity added through the change tracker must carry.</summary>
    private async Task<DateTimeOffset> DatabaseNowAsync(CancellationToken cancellationToken) =>
        await db.Database.SqlQueryRaw<DateTimeOffset>("SELECT now() AS \"Value\"").SingleAsync(cancellationToken);

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
