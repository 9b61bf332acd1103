using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;
using Microsoft.EntityFrameworkCore;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>What registering and importing share: a staged model directory becomes the next version of a name.</summary>
public static class ModelVersions
{
    /// <summary>
    /// In one serializable transaction: records the command, numbers the version, moves <paramref name="staged"/> to
    /// <c>models/&lt;name&gt;/v&lt;N&gt;</c> under the artifact root and inserts <paramref name="row"/>. Returns null when
    /// the command was already recorded (a concurrent redelivery won).
    /// </summary>
    public static async Task<ModelVersion?> AddAsync(JobsDbContext db, ProcessedCommand record, string artifactRoot, string staged,
        ModelVersion row, CancellationToken cancellationToken)
    {
        var commands = new CommandLog(db);
        await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
        if (!await commands.TryRecordAsync(record, cancellationToken))
            return null;
        int version = 1 + (await db.ModelVersions.Where(v => v.Name == row.Name).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0);
        var target = Path.Combine(Path.GetFullPath(artifactRoot), "models", row.Name, $"v{version}");
        // A directory left by an attempt whose transaction did not commit holds no registered version.
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Directory.Move(staged, target);
        row.Version = version;
        row.Path = target;
        db.ModelVersions.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return row;
    }

    /// <summary>A folder for staging under the artifact root (same file system as the versions, so the move is a rename).</summary>
    public static string StagingFolder(string artifactRoot, Guid commandId) =>
        Path.Combine(Path.GetFullPath(artifactRoot), "models", ".staging", commandId.ToString("N"));
}
