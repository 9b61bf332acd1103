using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>
/// Removes what imports leave behind on the data volume when their worker dies and no later attempt cleans up: a
/// staging folder, or a version folder no dataset version records. Only folders an hour old, named
/// <c>&lt;run&gt;-a&lt;attempt&gt;</c> as imports name them, and not held by a running attempt, are touched.
/// </summary>
public sealed class StagingSweeper(DataRoot dataRoot, IServiceScopeFactory scopes, ILogger<StagingSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan MinimumAge = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not sweep the data volume's staging folders");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var volume = dataRoot.Volume;
        var candidates = Folders(volume.StagingFolder)
            .Concat(Directory.Exists(Path.Combine(volume.Root, DataVolume.Versions))
                ? Directory.GetDirectories(Path.Combine(volume.Root, DataVolume.Versions)).Where(d => new DirectoryInfo(d).LinkTarget is null).SelectMany(Folders)
                : [])
            .ToList();
        if (candidates.Count == 0) return;
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var runIds = candidates.Select(c => c.Run).Distinct().ToList();
        var running = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id) && r.Status == RunStatus.Running)
            .ToDictionaryAsync(r => r.Id, r => r.Attempts, cancellationToken);
        var recorded = (await db.DatasetVersions.AsNoTracking().Where(v => runIds.Contains(v.ImportRunId) && v.Path != null).Select(v => v.Path!).ToListAsync(cancellationToken))
            .Select(p => Path.GetFullPath(Path.Combine(volume.Root, p))).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, run, attempt) in candidates)
        {
            if (recorded.Contains(path) || (running.TryGetValue(run, out var current) && current == attempt)) continue;
            logger.LogInformation("Removing {Folder}, left by attempt {Attempt} of import {RunId}", path, attempt, run);
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException e)
            {
                logger.LogWarning("Could not remove {Folder}: {Message}", path, e.Message);
            }
        }
    }

    /// <summary>The import folders in <paramref name="folder"/> old enough to judge, with their run and attempt.</summary>
    private static IEnumerable<(string Path, Guid Run, int Attempt)> Folders(string folder)
    {
        if (!Directory.Exists(folder) || new DirectoryInfo(folder).LinkTarget is not null) yield break;
        foreach (var entry in new DirectoryInfo(folder).EnumerateDirectories())
        {
            var parts = entry.Name.Split("-a");
            if (entry.LinkTarget is not null || parts.Length != 2 || !Guid.TryParseExact(parts[0], "N", out var run) || !int.TryParse(parts[1], out var attempt)) continue;
            if (DateTime.UtcNow - entry.LastWriteTimeUtc < MinimumAge) continue;
            yield return (entry.FullName, run, attempt);
        }
    }
}
