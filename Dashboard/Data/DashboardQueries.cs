using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Data;

/// <summary>One point of a curve: x in steps, epochs and seconds since the run's start, and the value.</summary>
public sealed record CurvePoint(double Step, double Epoch, double Seconds, double Value);

/// <summary>A model version with its newest evaluation, for the models page.</summary>
public sealed record ModelVersionRow(ModelVersion Version, EvaluationResult? LatestEvaluation);

/// <summary>The reads the dashboard makes, each a short query on a fresh DbContext (Blazor circuits live long).</summary>
public sealed class DashboardQueries(IDbContextFactory<JobsDbContext> databases)
{
    /// <summary>Points a curve is reduced to for drawing; a run may have 100,000 points per metric.</summary>
    public const int MaxCurvePoints = 600;

    /// <summary>A page of runs, newest first; each filter applies when given.</summary>
    public async Task<(IReadOnlyList<Run> Rows, int Total)> RunsAsync(RunStatus? status, RunKind? kind, int skip, int take,
        string? configuration = null, string? dataset = null, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var query = db.Runs.AsNoTracking();
        if (status is { } s) query = query.Where(r => r.Status == s);
        if (kind is { } k) query = query.Where(r => r.Kind == k);
        if (!string.IsNullOrEmpty(configuration)) query = query.Where(r => r.ConfigurationName == configuration);
        if (!string.IsNullOrEmpty(dataset)) query = query.Where(r => r.Dataset == dataset);
        int total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(r => r.CreatedAt).Skip(skip).Take(take).ToListAsync(cancellationToken);
        return (rows, total);
    }

    public async Task<Run?> RunAsync(Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
    }

    public async Task<IReadOnlyList<RunEvent>> EventsAsync(Guid runId, int take = 200, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId).OrderByDescending(e => e.Id).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>The run's events after the one with id <paramref name="afterId"/>, oldest first (to follow a log).</summary>
    public async Task<IReadOnlyList<RunEvent>> EventsAfterAsync(Guid runId, long afterId, int take, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId && e.Id > afterId).OrderBy(e => e.Id).Take(take).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Checkpoint>> CheckpointsAsync(Guid runId, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Checkpoints.AsNoTracking().Where(c => c.RunId == runId).OrderBy(c => c.Step).ToListAsync(cancellationToken);
    }

    public async Task<EvaluationResult?> EvaluationAsync(Guid runId, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.EvaluationResults.AsNoTracking().Where(e => e.RunId == runId).OrderByDescending(e => e.Id).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>
    /// The curves of a run's metrics, each reduced in the database to at most <see cref="MaxCurvePoints"/> points by
    /// averaging equal-width step buckets, so a run with 100,000 points per metric still draws at once.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<CurvePoint>>> CurvesAsync(Guid runId, IReadOnlyCollection<string> names,
        CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var started = await db.Runs.Where(r => r.Id == runId).Select(r => r.StartedAt ?? r.CreatedAt).FirstOrDefaultAsync(cancellationToken);
        // The top step is read first and passed in: joined in as a subquery, it was planned as the inner side of a
        // nested loop and recomputed for every point whenever the table's statistics predated a large run's points.
        if (await db.MetricPoints.Where(m => m.RunId == runId).MaxAsync(m => (long?)m.Step, cancellationToken) is not { } topStep) return new Dictionary<string, IReadOnlyList<CurvePoint>>();
        var rows = await db.Database.SqlQueryRaw<CurveRow>(
                """
                SELECT name AS "Name", avg(step)::float8 AS "Step", avg(epoch)::float8 AS "Epoch",
                       extract(epoch FROM (max(time) - {2}))::float8 AS "Seconds", avg(value)::float8 AS "Value"
                FROM metric_points
                WHERE run_id = {0} AND name = ANY({1})
                GROUP BY name, width_bucket(step, 0, {4}, {3})
                ORDER BY name, 2
                """, runId, names.ToArray(), started.ToUniversalTime(), MaxCurvePoints, topStep + 1)
            .ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.Name).ToDictionary(
            g => g.Key,
            g => (IReadOnlyList<CurvePoint>)g.Select(r => new CurvePoint(r.Step, r.Epoch, Math.Max(0, r.Seconds), r.Value)).ToList());
    }

    /// <summary>
    /// Every recorded point of a run's metrics (all metrics when <paramref name="names"/> is empty), by name and step,
    /// read as the caller consumes them: a run may have 100,000 points per metric.
    /// </summary>
    public async IAsyncEnumerable<MetricPoint> MetricPointsAsync(Guid runId, IReadOnlyCollection<string> names,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var query = db.MetricPoints.AsNoTracking().Where(m => m.RunId == runId);
        if (names.Count > 0) query = query.Where(m => names.Contains(m.Name));
        await foreach (var point in query.OrderBy(m => m.Name).ThenBy(m => m.Step).AsAsyncEnumerable().WithCancellation(cancellationToken))
            yield return point;
    }

    public async Task<IReadOnlyList<ConfigurationEntry>> ConfigurationsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Configurations.AsNoTracking().OrderBy(c => c.Position).ToListAsync(cancellationToken);
    }

    /// <summary>Every dataset, versioned or folder, with its newest ready version and the version importing, if any.</summary>
    public async Task<IReadOnlyList<DatasetRow>> DatasetsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var datasets = await db.Datasets.AsNoTracking().OrderBy(d => d.Name).ToListAsync(cancellationToken);
        var versions = await WithoutReports(db.DatasetVersions.AsNoTracking().Where(v => v.Status != DatasetVersionStatus.Deleted)).ToListAsync(cancellationToken);
        var byName = versions.ToLookup(v => v.DatasetName);
        return datasets.Select(d => new DatasetRow(d,
            byName[d.Name].Where(v => v.Status == DatasetVersionStatus.Ready).MaxBy(v => v.Version),
            byName[d.Name].Where(v => v.Status == DatasetVersionStatus.Importing).MaxBy(v => v.Version),
            byName[d.Name].Count())).ToList();
    }

    /// <summary>A dataset and its versions, newest first; null when there is no such dataset.</summary>
    public async Task<(Dataset Dataset, IReadOnlyList<DatasetVersion> Versions)?> DatasetAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Name == name, cancellationToken);
        if (dataset is null) return null;
        var versions = await WithoutReports(db.DatasetVersions.AsNoTracking().Where(v => v.DatasetName == name)).OrderByDescending(v => v.Version).ToListAsync(cancellationToken);
        return (dataset, versions);
    }

    /// <summary>Version <paramref name="version"/> of the dataset <paramref name="name"/>, without its report; null when there is none.</summary>
    public async Task<DatasetVersion?> DatasetVersionAsync(string name, int version, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await WithoutReports(db.DatasetVersions.AsNoTracking().Where(v => v.DatasetName == name && v.Version == version)).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>A version's import report (JSON), kept out of the lists: a report may list a thousand files.</summary>
    public async Task<string?> DatasetVersionReportAsync(int versionId, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.DatasetVersions.AsNoTracking().Where(v => v.Id == versionId).Select(v => v.ReportJson).FirstOrDefaultAsync(cancellationToken);
    }

    private static IQueryable<DatasetVersion> WithoutReports(IQueryable<DatasetVersion> versions) => versions.Select(v => new DatasetVersion
    {
        Id = v.Id, DatasetName = v.DatasetName, Version = v.Version, Status = v.Status, Digest = v.Digest, Layout = v.Layout, ClassesJson = v.ClassesJson,
        Classes = v.Classes, TrainImages = v.TrainImages, ValidationImages = v.ValidationImages, SizeBytes = v.SizeBytes, Source = v.Source,
        SourceName = v.SourceName, CreatedBy = v.CreatedBy, CreatedAt = v.CreatedAt, ReadyAt = v.ReadyAt, Error = v.Error, ImportRunId = v.ImportRunId, Path = v.Path,
    });

    /// <summary>The training and evaluation runs that read a version, newest first.</summary>
    public async Task<IReadOnlyList<Run>> RunsOfVersionAsync(int versionId, int take = 50, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Runs.AsNoTracking().Where(r => r.DatasetVersionId == versionId || r.ValidationDatasetVersionId == versionId)
            .OrderByDescending(r => r.CreatedAt).Take(take).ToListAsync(cancellationToken);
    }

    public async Task<DatasetVersion?> DatasetVersionAsync(int id, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
    }

    /// <summary>The dataset version an import run makes.</summary>
    public async Task<DatasetVersion?> ImportedVersionAsync(Guid importRunId, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.DatasetVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ImportRunId == importRunId, cancellationToken);
    }

    public async Task<IReadOnlyList<ModelVersionRow>> ModelVersionsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var versions = await db.ModelVersions.AsNoTracking().OrderBy(v => v.Name).ThenByDescending(v => v.Version).ToListAsync(cancellationToken);
        var ids = versions.Select(v => (int?)v.Id).ToList();
        var evaluations = await db.EvaluationResults.AsNoTracking().Where(e => ids.Contains(e.ModelVersionId))
            .OrderByDescending(e => e.Id).ToListAsync(cancellationToken);
        return versions.Select(v => new ModelVersionRow(v, evaluations.FirstOrDefault(e => e.ModelVersionId == v.Id))).ToList();
    }

    private sealed class CurveRow
    {
        public string Name { get; set; } = "";
        public double Step { get; set; }
        public double Epoch { get; set; }
        public double Seconds { get; set; }
        public double Value { get; set; }
    }

    /// <summary>How many runs there are of each status and kind, the oldest queued run's submission and the stalest heartbeat of a running one.</summary>
    public async Task<RunCensus> RunCensusAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var counts = await db.Runs.AsNoTracking().GroupBy(r => new { r.Status, r.Kind })
            .Select(g => new RunCount(g.Key.Status, g.Key.Kind, g.Count())).ToListAsync(cancellationToken);
        var oldestQueued = await db.Runs.AsNoTracking().Where(r => r.Status == RunStatus.Queued).MinAsync(r => (DateTimeOffset?)r.CreatedAt, cancellationToken);
        var stalestHeartbeat = await db.Runs.AsNoTracking().Where(r => r.Status == RunStatus.Running).MinAsync(r => r.HeartbeatAt, cancellationToken);
        return new RunCensus(counts, oldestQueued, stalestHeartbeat);
    }
}

public sealed record RunCount(RunStatus Status, RunKind Kind, int Runs);

/// <summary>The state of the run queue at one moment, for the dashboard's gauges.</summary>
public sealed record RunCensus(IReadOnlyList<RunCount> Counts, DateTimeOffset? OldestQueuedAt, DateTimeOffset? StalestHeartbeatAt);
