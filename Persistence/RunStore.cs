using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence;

/// <summary>Progress of a running run, written with each heartbeat.</summary>
public sealed record RunProgress(long Step, long TotalSteps, int Epoch, double? ImagesPerSecond, double? EtaSeconds,
    double? LastTop1, double? LastTop5, double? LastLoss, double? BestTop1);

/// <summary>
/// The run-table operations workers share. Claims use <c>FOR UPDATE SKIP LOCKED</c>, so any number of workers can
/// take work from one database; every write after the claim checks that this worker still holds the run, so a worker
/// presumed dead cannot overwrite the one that took its run over. Times come from the database clock.
/// </summary>
public sealed class RunStore(JobsDbContext db)
{
    /// <summary>Claims the oldest queued run of the given kinds, or returns null when there is none.</summary>
    public async Task<Run?> ClaimNextAsync(string worker, IReadOnlyCollection<RunKind> kinds, CancellationToken cancellationToken)
    {
        var kindNames = kinds.Select(k => k.ToString()).ToArray();
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
                new NpgsqlParameter("kinds", kindNames))
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        return claimed.SingleOrDefault();
    }

    /// <summary>
    /// Records that <paramref name="worker"/> is alive and how far the run is. Returns whether a cancel was asked for,
    /// or null when the worker no longer holds the run (it was presumed dead and the run was given to another).
    /// </summary>
    public async Task<bool?> HeartbeatAsync(Guid runId, string worker, RunProgress? progress, CancellationToken cancellationToken)
    {
        var result = await db.Database.SqlQueryRaw<bool>(
                """
                UPDATE runs SET heartbeat_at = now(),
                       step = coalesce(@step, step), total_steps = coalesce(@total, total_steps), epoch = coalesce(@epoch, epoch),
                       images_per_second = coalesce(@ips, images_per_second), eta_seconds = @eta,
                       last_top1 = coalesce(@top1, last_top1), last_top5 = coalesce(@top5, last_top5),
                       last_loss = coalesce(@loss, last_loss), best_top1 = coalesce(@best, best_top1)
                WHERE id = @id AND worker = @worker AND status = 'Running'
                RETURNING cancel_requested AS "Value"
                """,
                new NpgsqlParameter("id", runId),
                new NpgsqlParameter("worker", worker),
                Nullable("step", progress?.Step, NpgsqlDbType.Bigint),
                Nullable("total", progress?.TotalSteps, NpgsqlDbType.Bigint),
                Nullable("epoch", progress?.Epoch, NpgsqlDbType.Integer),
                Nullable("ips", progress?.ImagesPerSecond, NpgsqlDbType.Double),
                Nullable("eta", progress?.EtaSeconds, NpgsqlDbType.Double),
                Nullable("top1", progress?.LastTop1, NpgsqlDbType.Double),
                Nullable("top5", progress?.LastTop5, NpgsqlDbType.Double),
                Nullable("loss", progress?.LastLoss, NpgsqlDbType.Double),
                Nullable("best", progress?.BestTop1, NpgsqlDbType.Double))
            .ToListAsync(cancellationToken);
        return result.Count == 0 ? null : result[0];
    }

    /// <summary>Queues again the running runs whose heartbeat is older than <paramref name="staleAfter"/>; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> RequeueStaleAsync(TimeSpan staleAfter, CancellationToken cancellationToken) =>
        await db.Database.SqlQueryRaw<Guid>(
                """
                UPDATE runs SET status = 'Queued', worker = NULL
                WHERE status = 'Running' AND heartbeat_at < now() - @stale
                RETURNING id AS "Value"
                """,
                new NpgsqlParameter("stale", staleAfter))
            .ToListAsync(cancellationToken);

    /// <summary>Ends a run this worker holds; false when it no longer holds it.</summary>
    public async Task<bool> FinishAsync(Guid runId, string worker, RunStatus status, string? error, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(
            """
            UPDATE runs SET status = @status, finished_at = now(), heartbeat_at = now(), error = @error, eta_seconds = NULL,
                   worker = NULL
            WHERE id = @id AND worker = @worker AND status = 'Running'
            """,
            [
                new NpgsqlParameter("id", runId),
                new NpgsqlParameter("worker", worker),
                new NpgsqlParameter("status", status.ToString()),
                Nullable("error", error, NpgsqlDbType.Text),
            ],
            cancellationToken) == 1;

    /// <summary>Puts a run this worker holds back in the queue (the worker is shutting down); false when it no longer holds it.</summary>
    public async Task<bool> ReleaseAsync(Guid runId, string worker, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(
            """
            UPDATE runs SET status = 'Queued', worker = NULL, eta_seconds = NULL
            WHERE id = @id AND worker = @worker AND status = 'Running'
            """,
            [new NpgsqlParameter("id", runId), new NpgsqlParameter("worker", worker)],
            cancellationToken) == 1;

    /// <summary>
    /// Writes metric points in one statement. A point already recorded for the same run, name and step (a resumed
    /// run repeating steps after its last checkpoint) is overwritten, so the history never holds duplicates.
    /// </summary>
    public async Task UpsertMetricsAsync(Guid runId, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        if (points.Count == 0) return;
        // The last value for a (name, step) within the batch wins; ON CONFLICT cannot touch a row twice.
        var unique = points.GroupBy(p => (p.Name, p.Step)).Select(g => g.Last()).ToArray();
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO metric_points (run_id, step, epoch, name, value, time)
            SELECT @run, x.step, x.epoch, x.name, x.value, x.time
            FROM unnest(@steps, @epochs, @names, @values, @times) AS x(step, epoch, name, value, time)
            ON CONFLICT (run_id, name, step) DO UPDATE SET value = excluded.value, epoch = excluded.epoch, time = excluded.time
            """,
            [
                new NpgsqlParameter("run", runId),
                new NpgsqlParameter("steps", unique.Select(p => p.Step).ToArray()),
                new NpgsqlParameter("epochs", unique.Select(p => p.Epoch).ToArray()),
                new NpgsqlParameter("names", unique.Select(p => p.Name).ToArray()),
                new NpgsqlParameter("values", unique.Select(p => p.Value).ToArray()),
                new NpgsqlParameter("times", unique.Select(p => p.Time.ToUniversalTime()).ToArray()),
            ],
            cancellationToken);
    }

    /// <summary>Records a checkpoint (again, harmlessly, when a resumed run writes the same step).</summary>
    public async Task UpsertCheckpointAsync(Checkpoint checkpoint, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO checkpoints (run_id, step, epoch, path, metrics_json, created_at)
            VALUES (@run, @step, @epoch, @path, @metrics::jsonb, @created)
            ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, metrics_json = excluded.metrics_json, created_at = excluded.created_at
            """,
            [
                new NpgsqlParameter("run", checkpoint.RunId),
                new NpgsqlParameter("step", checkpoint.Step),
                new NpgsqlParameter("epoch", checkpoint.Epoch),
                new NpgsqlParameter("path", checkpoint.Path),
                new NpgsqlParameter("metrics", checkpoint.MetricsJson),
                new NpgsqlParameter("created", checkpoint.CreatedAt.ToUniversalTime()),
            ],
            cancellationToken);

    /// <summary>Marks a command as handled; false when its id was seen before (a redelivery or a duplicate).</summary>
    public async Task<bool> TryRecordCommandAsync(ProcessedCommand command, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO processed_commands (id, type, received_at, outcome, reason, payload_json)
            VALUES (@id, @type, now(), @outcome, @reason, @payload::jsonb)
            ON CONFLICT (id) DO NOTHING
            """,
            [
                new NpgsqlParameter("id", command.Id),
                new NpgsqlParameter("type", command.Type),
                new NpgsqlParameter("outcome", command.Outcome),
                Nullable("reason", command.Reason, NpgsqlDbType.Text),
                new NpgsqlParameter("payload", command.PayloadJson),
            ],
            cancellationToken) == 1;

    private static NpgsqlParameter Nullable<T>(string name, T? value, NpgsqlDbType type) =>
        new(name, type) { Value = value is null ? DBNull.Value : value };
}
