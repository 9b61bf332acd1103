using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Datasets;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>A dataset name a message gave that is not acceptable; the message says why.</summary>
public sealed class InvalidDatasetNameException(string message) : Exception(message);

/// <summary>The data a run reads: the dataset's name, its folder on this worker, and the version when it is a versioned dataset.</summary>
public sealed record DataSource(string Name, string Path, DatasetVersion? Version);

/// <summary>
/// Turns dataset names from messages into folders on the data volume. A versioned dataset's name means its newest
/// ready version ("name@N" a given one), whose immutable folder the database records; any other name is a folder an
/// operator placed under the root: one folder name (letters, digits, '.', '_', '-', not starting with a dot), so no
/// message can reach outside the root; what the operator links inside the root is the operator's choice.
/// </summary>
public sealed class DataRoot(IOptions<WorkerOptions> options, IServiceScopeFactory scopes)
{
    public DataVolume Volume { get; } = new(options.Value.DataRoot);

    public string Root => Volume.Root;

    /// <summary>What a command's dataset reference means, checked: the version's folder, or the folder of that name.</summary>
    public async Task<DataSource> ResolveAsync(string? reference, JobsDbContext db, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reference)) throw new InvalidDatasetNameException("no dataset named");
        var (name, _) = DatasetCatalog.Parse(reference);
        var (resolved, problem) = await new DatasetCatalog(db).ResolveAsync(reference, cancellationToken);
        if (resolved is null) throw new InvalidDatasetNameException(problem!);
        return resolved.Version is { } version ? new DataSource(name, VersionFolder(version), version) : new DataSource(name, ResolveFolder(name), null);
    }

    /// <summary>The data a recorded run reads: the version it recorded (whatever versions came later), or its folder.</summary>
    public async Task<(DataSource Train, DataSource? Validation)> ForRunAsync(Run run, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var catalog = new DatasetCatalog(scope.ServiceProvider.GetRequiredService<JobsDbContext>());
        async Task<DataSource> Of(string name, int? versionId)
        {
            if (versionId is not { } id) return new DataSource(name, ResolveFolder(name), null);
            var version = await catalog.VersionAsync(id, cancellationToken)
                ?? throw new InvalidDatasetNameException($"the dataset version this run read ({name}, id {id}) is no longer recorded");
            return new DataSource(name, VersionFolder(version), version);
        }
        var train = await Of(run.Dataset, run.DatasetVersionId);
        var validation = run.ValidationDataset is { } other ? await Of(other, run.ValidationDatasetVersionId) : null;
        return (train, validation);
    }

    /// <summary>A folder dataset's path.</summary>
    public string ResolveFolder(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidDatasetNameException("no dataset named");
        if (DataVolume.InvalidName(name) is not null)
            throw new InvalidDatasetNameException(
                $"dataset name '{Shorten(name)}' is not a folder name under the data root (letters, digits, '.', '_' and '-'; no paths)");
        var path = Path.Combine(Root, name);
        if (!Path.GetFullPath(path).StartsWith(Root.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new InvalidDatasetNameException($"dataset name '{Shorten(name)}' points outside the data root");
        if (!Directory.Exists(path))
            throw new InvalidDatasetNameException($"no dataset '{name}' under the data root (see the datasets list)");
        return path;
    }

    /// <summary>The folders an operator placed under the root (the volume's own folders are not datasets).</summary>
    public IEnumerable<string> FolderNames() =>
        Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && DataVolume.InvalidName(n) is null).Select(n => n!).Order(StringComparer.Ordinal)
            : [];

    private string VersionFolder(DatasetVersion version)
    {
        var path = Path.GetFullPath(Path.Combine(Root, version.Path ?? throw new InvalidDatasetNameException($"version {version.Version} of '{version.DatasetName}' has no folder")));
        if (!path.StartsWith(Path.Combine(Root, DataVolume.Versions) + "/", StringComparison.Ordinal))
            throw new InvalidDatasetNameException($"version {version.Version} of '{version.DatasetName}' is recorded outside the data volume's versions");
        if (!Directory.Exists(path))
            throw new InvalidDatasetNameException($"the folder of version {version.Version} of '{version.DatasetName}' is missing from the data volume ({version.Path})");
        return path;
    }

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "..." : text;
}
