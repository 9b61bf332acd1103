using Microsoft.EntityFrameworkCore;
using Npgsql;
using SqueezeNext.Persistence.Datasets;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Runs;

/// <summary>The result of queueing an import: the version it will make and when its run was queued, or why there is none.</summary>
public sealed record QueuedImport(int? Version, string? Conflict, DateTimeOffset QueuedAt = default);

public sealed partial class RunLifecycle
{
    /// <summary>
    /// Records an accepted import: the command, the versioned dataset (made on its first version), the next version
    /// number in the state "importing", and the import run, in one transaction that holds the dataset's name locked,
    /// so two imports under one name never take the same number. Version null and no conflict: the command was seen before.
    /// The run is made here, as it is named by the version's number.
    /// </summary>
    public async Task<QueuedImport> QueueImportAsync(Guid runId, string planJson, DatasetVersion version, ProcessedCommand accepted, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await DatasetCatalog.LockNameAsync(db, version.DatasetName, cancellationToken);
        var existing = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Name == version.DatasetName, cancellationToken);
        if (existing is { Kind: DatasetKinds.Folder })
            return new QueuedImport(null, $"'{version.DatasetName}' is a folder dataset under the data root; a versioned dataset needs a name of its own");
        if (!await new Idempotency.CommandLog(db).TryRecordAsync(accepted, cancellationToken)) return new QueuedImport(null, null);
        if (existing is null)
        {
            var now = await DatabaseNowAsync(cancellationToken);
            db.Datasets.Add(new Dataset { Name = version.DatasetName, Kind = DatasetKinds.Versioned, CreatedBy = version.CreatedBy, CreatedAt = now, SeenAt = now });
        }
        version.Version = 1 + (await db.DatasetVersions.Where(v => v.DatasetName == version.DatasetName).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0);
        version.Status = DatasetVersionStatus.Importing;
        version.ImportRunId = runId;
        version.CreatedAt = await DatabaseNowAsync(cancellationToken);
        db.DatasetVersions.Add(version);
        var run = new Run
        {
            Id = runId, Kind = RunKind.Import, Status = RunStatus.Queued, Name = $"import {version.DatasetName} v{version.Version}",
            Dataset = version.DatasetName, PlanJson = planJson,
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.RunEvents.Add(Event(run.Id, RunEventKind.Queued, $"queued: {run.Name} from {version.Source} '{version.SourceName}'"));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return new QueuedImport(version.Version, null, run.CreatedAt);
    }

    /// <summary>The dataset version an import run makes.</summary>
    public Task<DatasetVersion?> ImportedVersionAsync(Guid runId, CancellationToken cancellationToken) =>
        db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ImportRunId == runId, cancellationToken);

    /// <summary>Within <see cref="FinishAsync"/>: an import's version becomes ready with what it holds, or failed with the run's error.</summary>
    private async Task FinishImportAsync(RunLease lease, RunEnding ending, CancellationToken cancellationToken)
    {
        if (ending.Imported is { } imported && ending.Status == RunStatus.Completed)
        {
            await db.DatasetVersions.Where(v => v.ImportRunId == lease.RunId).ExecuteUpdateAsync(u => u
                .SetProperty(v => v.Status, DatasetVersionStatus.Ready)
                .SetProperty(v => v.Digest, imported.Digest)
                .SetProperty(v => v.Layout, imported.Layout)
                .SetProperty(v => v.ClassesJson, imported.ClassesJson)
                .SetProperty(v => v.Classes, imported.Classes)
                .SetProperty(v => v.TrainImages, imported.TrainImages)
                .SetProperty(v => v.ValidationImages, imported.ValidationImages)
                .SetProperty(v => v.SizeBytes, imported.SizeBytes)
                .SetProperty(v => v.ReportJson, imported.ReportJson)
                .SetProperty(v => v.Path, imported.Path)
                .SetProperty(v => v.ReadyAt, v => DateTimeOffset.UtcNow), cancellationToken);
            return;
        }
        await db.DatasetVersions.Where(v => v.ImportRunId == lease.RunId && v.Status == DatasetVersionStatus.Importing).ExecuteUpdateAsync(u => u
            .SetProperty(v => v.Status, DatasetVersionStatus.Failed)
            .SetProperty(v => v.Error, ending.Error ?? (ending.Status == RunStatus.Cancelled ? "the import was cancelled" : "the import did not finish"))
            .SetProperty(v => v.ReportJson, ending.Imported == null ? null : ending.Imported.ReportJson), cancellationToken);
    }
}

/// <summary>What a finished import wrote, for its dataset version's row; a refused import carries only its report.</summary>
public sealed record ImportEnding(string? Digest, string? Layout, string ClassesJson, int Classes, int TrainImages, int ValidationImages, long SizeBytes,
    string? ReportJson, string? Path);
