using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Inference;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Inference;

/// <summary>A model that cannot be served for a request (none named, none serving, files missing); the message says why.</summary>
public sealed class ModelUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A loaded model version. Forward passes on it may run at once; unloading it waits for those in progress.</summary>
public sealed class ServedModel(ModelVersion version, ImageClassifier classifier)
{
    private readonly ReaderWriterLockSlim passes = new();
    private bool unloaded;

    public ModelVersion Version { get; } = version;
    public ImageClassifier Classifier { get; } = classifier;
    public DateTime LastUsed { get; set; } = DateTime.UtcNow;

    /// <summary>Runs <paramref name="pass"/> on the classifier (only read by a forward pass in eval mode, so passes may overlap).</summary>
    public T Run<T>(Func<ImageClassifier, T> pass)
    {
        passes.EnterReadLock();
        try
        {
            if (unloaded) throw new ModelUnavailableException($"model '{Version.Name}' v{Version.Version} was unloaded while requests for it waited");
            return pass(Classifier);
        }
        finally
        {
            passes.ExitReadLock();
        }
    }

    /// <summary>Frees the model's tensors once the forward passes in progress on it have finished.</summary>
    public void Unload()
    {
        passes.EnterWriteLock();
        try
        {
            if (!unloaded) Classifier.Dispose();
            unloaded = true;
        }
        finally
        {
            passes.ExitWriteLock();
        }
    }
}

/// <summary>
/// Keeps a few model versions loaded for classification. Which version serves a name is re-read from the database
/// after <see cref="ServingRecheck"/>, so a promotion is noticed within seconds without restarting the worker.
/// </summary>
public sealed class ModelCache : IDisposable
{
    private readonly IServiceScopeFactory scopes;
    private readonly IOptions<WorkerOptions> options;
    private readonly WorkerMetrics metrics;
    private readonly ILogger<ModelCache> logger;

    public static readonly TimeSpan ServingRecheck = TimeSpan.FromSeconds(2);

    private readonly Dictionary<int, ServedModel> loaded = [];
    private readonly Dictionary<string, (int VersionId, DateTime CheckedAt)> serving = [];
    private readonly SemaphoreSlim gate = new(1, 1);
    private (string Name, DateTime CheckedAt)? defaultName;
    private int loadedCount;

    public ModelCache(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, WorkerMetrics metrics, ILogger<ModelCache> logger)
    {
        this.scopes = scopes;
        this.options = options;
        this.metrics = metrics;
        this.logger = logger;
        metrics.ObserveCachedModels(() => Volatile.Read(ref loadedCount));
    }

    /// <summary>The model for a request: the named version, or the serving version of the name (or of the default model).</summary>
    public async Task<ServedModel> GetAsync(string? name, int? version, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            name ??= options.Value.DefaultModel ?? await SingleServingNameAsync(db, cancellationToken);
            var row = version is { } number
                ? await FindVersionAsync(db, name, number, cancellationToken)
                : await FindServingAsync(db, name, cancellationToken);
            bool hit = loaded.TryGetValue(row.Id, out var model);
            metrics.CountModelLookup(hit);
            if (hit)
            {
                model!.LastUsed = DateTime.UtcNow;
                return model;
            }
            return Load(row);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The serving version of the default model, loaded (for the readiness check); null when nothing serves.</summary>
    public async Task<ServedModel?> TryGetDefaultAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await GetAsync(null, null, cancellationToken);
        }
        catch (ModelUnavailableException e) when (e.InnerException is null)
        {
            return null;
        }
    }

    private async Task<string> SingleServingNameAsync(JobsDbContext db, CancellationToken cancellationToken)
    {
        // Every request that names no model asks this; the answer is kept as long as a serving version is.
        if (defaultName is { } cached && DateTime.UtcNow - cached.CheckedAt < ServingRecheck) return cached.Name;
        var name = await QuerySingleServingNameAsync(db, cancellationToken);
        defaultName = (name, DateTime.UtcNow);
        return name;
    }

    private static async Task<string> QuerySingleServingNameAsync(JobsDbContext db, CancellationToken cancellationToken)
    {
        var names = await db.ModelVersions.AsNoTracking().Where(v => v.IsServing).Select(v => v.Name).Distinct().OrderBy(n => n).Take(2).ToListAsync(cancellationToken);
        return names.Count switch
        {
            1 => names[0],
            0 => throw new ModelUnavailableException("no model is serving yet: register a model version and promote it"),
            _ => throw new ModelUnavailableException("several models are serving and the request names none: set modelName"),
        };
    }

    private static async Task<ModelVersion> FindVersionAsync(JobsDbContext db, string name, int version, CancellationToken cancellationToken) =>
        await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name && v.Version == version, cancellationToken)
        ?? throw new ModelUnavailableException($"model '{name}' has no version {version}");

    private async Task<ModelVersion> FindServingAsync(JobsDbContext db, string name, CancellationToken cancellationToken)
    {
        if (serving.TryGetValue(name, out var cached) && DateTime.UtcNow - cached.CheckedAt < ServingRecheck
            && loaded.TryGetValue(cached.VersionId, out var model))
            return model.Version;
        var row = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name && v.IsServing, cancellationToken)
                  ?? throw new ModelUnavailableException(await db.ModelVersions.AnyAsync(v => v.Name == name, cancellationToken)
                      ? $"model '{name}' has no serving version: promote one"
                      : $"no model named '{name}'");
        serving[name] = (row.Id, DateTime.UtcNow);
        return row;
    }

    private ServedModel Load(ModelVersion row)
    {
        ImageClassifier classifier;
        var started = Stopwatch.GetTimestamp();
        using var span = WorkerTracing.Source.StartActivity("classify.model_load");
        span?.SetTag("sqnxt.model", row.Name);
        span?.SetTag("sqnxt.model_version", row.Version);
        try
        {
            var worker = options.Value;
            classifier = ImageClassifier.Load(row.Path, worker.Classification.InferenceEngine, worker.Device,
                worker.Classification.ThreadsPerPass(worker.TorchThreads));
        }
        catch (Exception e) when (e is ArtifactException or IOException or ArgumentException)
        {
            throw new ModelUnavailableException($"model '{row.Name}' v{row.Version} cannot be loaded: {e.Message}", e);
        }
        metrics.RecordModelLoad(Stopwatch.GetElapsedTime(started));
        var model = new ServedModel(row, classifier);
        loaded[row.Id] = model;
        logger.LogInformation("Loaded model {Model} v{Version} from {Path}", row.Name, row.Version, row.Path);
        while (loaded.Count > options.Value.Classification.CachedModels)
        {
            var oldest = loaded.Values.Where(m => m != model).MinBy(m => m.LastUsed)!;
            loaded.Remove(oldest.Version.Id);
            oldest.Unload();
            logger.LogInformation("Unloaded model {Model} v{Version}", oldest.Version.Name, oldest.Version.Version);
        }
        Volatile.Write(ref loadedCount, loaded.Count);
        return model;
    }

    public void Dispose()
    {
        foreach (var model in loaded.Values) model.Unload();
        loaded.Clear();
        Volatile.Write(ref loadedCount, 0);
        gate.Dispose();
    }
}
