using Microsoft.EntityFrameworkCore;
using Npgsql;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Runs;

/// <summary>What an attempt writes while it holds its run: metric points, checkpoint rows and events, fenced by its attempt.</summary>
public sealed partial class RunLifecycle
{
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
                db.RunEvents.AddRange(records.Events.Select(e => Event(lease.RunId, e.Kind, e.Message, e.Level, lease.Attempt)));
                await db.SaveChangesAsync(cancellationToken);
            }
        }, cancellationToken);
    }

    private async Task UpsertMetricsAsync(RunLease lease, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        if (points.Count == 0) return;
        // The last value for a (name, step) within the batch wins; ON CONFLICT cannot touch a row twice.
        var unique = points.GroupBy(p => (p.Name, p.Step)).Select(g => g.Last()).ToArray();
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO metric_points (run_id, step, epoch, name, value, time, attempt)
            SELECT @run, x.step, x.epoch, x.name, x.value, now(), @attempt
            FROM unnest(@steps, @epochs, @names, @values) AS x(step, epoch, name, value)
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
}
