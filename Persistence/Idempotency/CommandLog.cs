using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Idempotency;

/// <summary>The commands the worker has handled, by their client-chosen ids: what makes every command idempotent.</summary>
public sealed class CommandLog(JobsDbContext db)
{
    /// <summary>Marks a command as handled; false when its id was seen before (a redelivery or a duplicate).</summary>
    public async Task<bool> TryRecordAsync(ProcessedCommand command, CancellationToken cancellationToken) =>
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
                new NpgsqlParameter("reason", NpgsqlDbType.Text) { Value = (object?)command.Reason ?? DBNull.Value },
                new NpgsqlParameter("payload", command.PayloadJson),
            ],
            cancellationToken) == 1;

    public Task<ProcessedCommand?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        db.ProcessedCommands.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, cancellationToken);
}
