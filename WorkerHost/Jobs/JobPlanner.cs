using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Model;
using SqueezeNext.Vision.Training;
using SqueezeNext.WorkerHost.Datasets;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>A command turned into a run to record, or the reason it cannot be.</summary>
public sealed record PlannedRun(Run? Run, string? Rejection);

/// <summary>
/// Plans submitted jobs once, when they are accepted, and turns them into run rows that carry the plan: the dataset
/// names checked against the data root, the dataset's classes read, then the engine's pure planner (every invalid
/// field named); for an evaluation, the model located. Nothing here trains, and nothing plans again later.
/// </summary>
public sealed class JobPlanner(DataRoot dataRoot, IOptions<WorkerOptions> options)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string RunDirectory(Guid runId) => Path.Combine(Path.GetFullPath(options.Value.ArtifactRoot), "runs", runId.ToString("N"));

    public async Task<PlannedRun> PlanTrainingAsync(SubmitTraining command, JobsDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            if (command.RunId == Guid.Empty) return Reject("runId: must be a non-empty id chosen by the sender");
            var data = await dataRoot.ResolveAsync(command.Dataset, db, cancellationToken);
            var validation = command.ValidationDataset is null ? null : await dataRoot.ResolveAsync(command.ValidationDataset, db, cancellationToken);
            var configuration = command.ConfigurationJson is { } json
                ? ConfigurationFile.Parse(json, "configurationJson")
                : ConfigurationCatalog.Get(command.Configuration ?? "");
            // A checkpoint interval left out is this worker's, not the setting's general default.
            var settings = command.Settings ?? new TrainingSettings();
            settings = settings with { CheckpointEveryMinutes = settings.CheckpointEveryMinutes ?? options.Value.CheckpointEveryMinutes };
            var plan = TrainingPlan.Create(configuration, settings, DatasetReader.DiscoverClasses(data.Path));

            return new PlannedRun(new Run
            {
                Id = command.RunId,
                Kind = RunKind.Training,
                Name = string.IsNullOrWhiteSpace(command.Name) ? $"{plan.Configuration.Name} on {Describe(data)}" : Truncate(command.Name, 200),
                ConfigurationName = plan.Configuration.Name,
                ConfigurationJson = ConfigurationJson.Serialize(plan.Configuration),
                PlanJson = plan.ToJson(),
                Dataset = data.Name,
                DatasetVersionId = data.Version?.Id,
                DatasetDigest = data.Version?.Digest,
                ValidationDataset = validation?.Name,
                ValidationDatasetVersionId = validation?.Version?.Id,
                OutputDirectory = RunDirectory(command.RunId),
            }, null);
        }
        catch (Exception e) when (e is InvalidConfigurationException or InvalidDatasetNameException or DatasetException)
        {
            return Reject(e.Message);
        }
    }

    public async Task<PlannedRun> PlanEvaluationAsync(SubmitEvaluation command, JobsDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            if (command.RunId == Guid.Empty) return Reject("runId: must be a non-empty id chosen by the sender");
            var plan = EvaluationPlan.Create(command.Split, command.MaxImages);
            var data = await dataRoot.ResolveAsync(command.Dataset, db, cancellationToken);
            var (modelPath, version, sourceRun, step) = await LocateModelAsync(command, db, cancellationToken);
            var manifest = ModelArtifact.ReadManifest(modelPath);

            return new PlannedRun(new Run
            {
                Id = command.RunId,
                Kind = RunKind.Evaluation,
                Name = string.IsNullOrWhiteSpace(command.Name)
                    ? $"evaluate {(version is null ? $"run {sourceRun:N}"[..12] : $"{version.Name} v{version.Version}")} on {Describe(data)}"
                    : Truncate(command.Name, 200),
                ConfigurationName = manifest.Configuration.Name,
                ConfigurationJson = ConfigurationJson.Serialize(manifest.Configuration),
                PlanJson = plan.ToJson(),
                Dataset = data.Name,
                DatasetVersionId = data.Version?.Id,
                DatasetDigest = data.Version?.Digest,
                OutputDirectory = modelPath,
                ModelVersionId = version?.Id,
                SourceRunId = sourceRun,
                SourceCheckpointStep = step,
            }, null);
        }
        catch (Exception e) when (e is InvalidConfigurationException or InvalidDatasetNameException or DatasetException or ArtifactException)
        {
            return Reject(e.Message);
        }
    }

    /// <summary>The trainer's options for an attempt at a recorded training run: its stored plan, the data it recorded, and where this worker keeps the output.</summary>
    public TrainingOptions TrainingOptionsFor(Run run, DataSource train, DataSource? validation)
    {
        return new TrainingOptions
        {
            Plan = TrainingPlan.FromJson(run.PlanJson, $"run {run.Id}"),
            TrainData = train.Path,
            ValidationData = validation?.Path,
            OutputDirectory = run.OutputDirectory ?? RunDirectory(run.Id),
            Device = options.Value.Device,
            LoaderThreads = options.Value.LoaderThreads,
        };
    }

    /// <summary>The data a recorded run reads, whatever versions were made after it was planned.</summary>
    public Task<(DataSource Train, DataSource? Validation)> DataForAsync(Run run, CancellationToken cancellationToken) => dataRoot.ForRunAsync(run, cancellationToken);

    /// <summary>How a run's name shows its data: "name v3" for a version, the folder's name otherwise.</summary>
    private static string Describe(DataSource data) => data.Version is { } version ? $"{data.Name} v{version.Version}" : data.Name;

    /// <summary>The model directory a registration or evaluation refers to, with the version or run it came from.</summary>
    public static async Task<(string Path, ModelVersion? Version, Guid? SourceRun, long? Step)> LocateModelAsync(
        SubmitEvaluation command, JobsDbContext db, CancellationToken cancellationToken)
    {
        if (command.ModelName is not null)
        {
            var query = db.ModelVersions.AsNoTracking().Where(v => v.Name == command.ModelName);
            var version = command.ModelVersion is { } number
                ? await query.FirstOrDefaultAsync(v => v.Version == number, cancellationToken)
                : await query.FirstOrDefaultAsync(v => v.IsServing, cancellationToken);
            if (version is null)
                throw new ArtifactException(command.ModelVersion is null
                    ? $"model '{command.ModelName}' has no serving version"
                    : $"model '{command.ModelName}' has no version {command.ModelVersion}");
            return (version.Path, version, null, null);
        }
        if (command.SourceRunId is { } runId)
        {
            var path = await RunModelPathAsync(db, runId, command.CheckpointStep, cancellationToken);
            return (path, null, runId, command.CheckpointStep);
        }
        throw new ArtifactException("name a model (modelName, modelVersion) or a training run (sourceRunId, checkpointStep) to evaluate");
    }

    /// <summary>A training run's final model, or its checkpoint at <paramref name="step"/>.</summary>
    public static async Task<string> RunModelPathAsync(JobsDbContext db, Guid runId, long? step, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new ArtifactException($"no run {runId}");
        if (run.Kind != RunKind.Training || run.OutputDirectory is null)
            throw new ArtifactException($"run {runId} is not a training run");
        string path;
        if (step is { } s)
        {
            var checkpoint = await db.Checkpoints.AsNoTracking().FirstOrDefaultAsync(c => c.RunId == runId && c.Step == s, cancellationToken)
                ?? throw new ArtifactException($"run {runId} has no checkpoint at step {s}");
            path = checkpoint.Path;
        }
        else
        {
            if (run.Status != RunStatus.Completed)
                throw new ArtifactException($"run {runId} is {run.Status.ToString().ToLowerInvariant()}, so it has no final model; name a checkpoint step");
            path = Path.Combine(run.OutputDirectory, Trainer.ModelFolder);
        }
        if (!File.Exists(Path.Combine(path, ModelArtifact.ManifestFileName)))
            throw new ArtifactException($"the model of run {runId}{(step is null ? "" : $" at step {step}")} is no longer on disk (checkpoints are pruned)");
        return path;
    }

    private static PlannedRun Reject(string reason) => new(null, reason);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
