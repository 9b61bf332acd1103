using Microsoft.EntityFrameworkCore;
using Npgsql;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Datasets;

/// <summary>What deleting a version did: deleted (its folder, relative to the data root, is the caller's to remove), or why not.</summary>
public sealed record VersionDeletion(bool Deleted, string? Path, string? Refusal, bool NotFound = false);

/// <summary>A dataset name as a run reads it: a ready version of a versioned dataset, or a folder under the data root.</summary>
public sealed record ResolvedDataset(string Name, DatasetVersion? Version)
{
    public bool IsFolder => Version is null;
}

/// <summary>
/// The datasets table and its versions, outside any run: which version a name means, the folders workers report,
/// and deleting versions nothing uses. Writes that belong to an import run are the run lifecycle's.
/// </summary>
public sealed class DatasetCatalog(JobsDbContext db)
{
    /// <summary>Folders no worker has reported for this long leave the list (each worker reports every few minutes).</summary>
    public static readonly TimeSpan FolderForgottenAfter = TimeSpan.FromMinutes(16);

    /// <summary>
    /// What a command's dataset means: "name" is a versioned dataset's newest ready version, "name@N" its version N,
    /// and a name no versioned dataset has is a folder under the data root (checked by the worker). Null with the
    /// reason when a versioned dataset has no such ready version.
    /// </summary>
    public async Task<(ResolvedDataset? Dataset, string? Problem)> ResolveAsync(string reference, CancellationToken cancellationToken)
    {
        var (name, number) = Parse(reference);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Name == name && d.Kind == DatasetKinds.Versioned, cancellationToken);
        if (dataset is null)
            return number is null ? (new ResolvedDataset(name, null), null) : (null, $"there is no versioned dataset '{name}'");
        var versions = db.DatasetVersions.AsNoTracking().Where(v => v.DatasetName == name);
        if (number is { } n)
        {
            var version = await versions.FirstOrDefaultAsync(v => v.Version == n, cancellationToken);
            return version switch
            {
                null => (null, $"dataset '{name}' has no version {n}"),
                { Status: not DatasetVersionStatus.Ready } => (null, $"version {n} of dataset '{name}' is {version.Status.ToString().ToLowerInvariant()}, not ready"),
                _ => (new ResolvedDataset(name, version), null),
            };
        }
        var newest = await versions.Where(v => v.Status == DatasetVersionStatus.Ready).OrderByDescending(v => v.Version).FirstOrDefaultAsync(cancellationToken);
        return newest is null ? (null, $"dataset '{name}' has no ready version yet") : (new ResolvedDataset(name, newest), null);
    }

    public Task<DatasetVersion?> VersionAsync(int id, CancellationToken cancellationToken) =>
        db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);

    /// <summary>"name" or "name@N" split into its parts.</summary>
    public static (string Name, int? Version) Parse(string reference)
    {
        int at = reference.LastIndexOf('@');
        return at > 0 && int.TryParse(reference.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int version)
            ? (reference[..at], version)
            : (reference, null);
    }

    /// <summary>
    /// Records the folders one worker found under its data root: each is added or refreshed, never a versioned
    /// dataset of the same name; folders that no worker has reported for <see cref="FolderForgottenAfter"/> go. Workers
    /// with different data roots therefore add to the list rather than replace each other's.
    /// </summary>
    public async Task ReportFoldersAsync(IReadOnlyList<Dataset> folders, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var folder in folders)
        {
            await db.Database.ExecuteSqlRawAsync(
                """
                INSERT INTO datasets (name, kind, layout, classes, train_images, validation_images, error, seen_at, created_at)
                VALUES (@name, 'folder', @layout, @classes, @train, @validation, @error, now(), now())
                ON CONFLICT (name) DO UPDATE SET layout = excluded.layout, classes = excluded.classes, train_images = excluded.train_images,
                    validation_images = excluded.validation_images, error = excluded.error, seen_at = now()
                WHERE datasets.kind = 'folder'
                """,
                [
                    new NpgsqlParameter("name", folder.Name),
                    new NpgsqlParameter("layout", (object?)folder.Layout ?? DBNull.Value),
                    new NpgsqlParameter("classes", folder.Classes),
                    new NpgsqlParameter("train", folder.TrainImages),
                    new NpgsqlParameter("validation", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)folder.ValidationImages ?? DBNull.Value },
                    new NpgsqlParameter("error", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)folder.Error ?? DBNull.Value },
                ], cancellationToken);
        }
        await db.Database.ExecuteSqlRawAsync("DELETE FROM datasets WHERE kind = 'folder' AND seen_at < now() - @after",
            [new NpgsqlParameter("after", FolderForgottenAfter)], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes a version that no run read and no import is making, in a transaction that holds the name.
    /// </summary>
    public async Task<VersionDeletion> DeleteVersionAsync(string name, int number, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await LockNameAsync(db, name, cancellationToken);
        var version = await db.DatasetVersions.FirstOrDefaultAsync(v => v.DatasetName == name && v.Version == number, cancellationToken);
        if (version is null) return new VersionDeletion(false, null, $"dataset '{name}' has no version {number}", NotFound: true);
        if (version.Status == DatasetVersionStatus.Importing) return new VersionDeletion(false, null, $"version {number} of '{name}' is still importing; cancel its import run first");
        var users = await db.Runs.AsNoTracking().Where(r => r.DatasetVersionId == version.Id || r.ValidationDatasetVersionId == version.Id)
            .Select(r => r.Id).Take(3).ToListAsync(cancellationToken);
        if (users.Count > 0)
            return new VersionDeletion(false, null,
                $"version {number} of '{name}' is used by run{(users.Count > 1 ? "s" : "")} {string.Join(", ", users)}; a version that a run or model used is kept");
        if (version.Status == DatasetVersionStatus.Deleted) return new VersionDeletion(false, null, $"version {number} of '{name}' is already deleted", NotFound: true);
        // The row stays, marked, so that "name@N" never comes to mean other data.
        string? path = version.Path;
        version.Status = DatasetVersionStatus.Deleted;
        version.Path = null;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new VersionDeletion(true, path, null);
    }

    /// <summary>Holds a dataset name for the rest of the transaction: version numbers and deletions under one name happen one at a time.</summary>
    internal static Task LockNameAsync(JobsDbContext db, string name, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtextextended('dataset:' || @name, 0))", [new NpgsqlParameter("name", name)], cancellationToken);
}
