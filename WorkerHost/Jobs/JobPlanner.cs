using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Model;
using SqueezeNext.Vision.Training;
using SqueezeNext.WorkerHost.Datasets;
using SqueezeNext.WorkerHost.Options;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>A command turned into a run to record, or the reason it cannot be.</summary>
public sealed record PlannedRun(Run? Run, string? Rejection);

/// <summary>
/// Validates submitted jobs and turns them into run rows: the configuration resolved with its overrides (every invalid
/// field named), the dataset name checked against the data root, the model to evaluate located. Nothing here trains.
/// </summary>
public sealed class JobPlanner(DataRoot dataRoot, IOptions<WorkerOptions> options)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string RunDirectory(Guid runId) => Path.Combine(Path.GetFullPath(options.Value.ArtifactRoot), "runs", runId.ToString("N"));

    public PlannedRun PlanTraining(SubmitTraining command)
    {
        try
        {
            if (command.RunId == Guid.Empty) return Reject("runId: must be a non-empty id chosen by the sender");
            var dataPath = dataRoot.Resolve(command.Dataset);
            if (command.ValidationDataset is not null) dataRoot.Resolve(command.ValidationDataset);
            var configuration = ResolveConfiguration(command);
            var labels = LabelSpace.For(configuration, dataPath);
            var trainingOptions = TrainingOptionsFor(command, labels, dataPath, RunDirectory(command.RunId));
            var problems = trainingOptions.Validate();
            if (problems.Count > 0) return Reject(string.Join("; ", problems));

            return new PlannedRun(new Run
            {
                Id = command.RunId,
                Kind = RunKind.Training,
                Status = RunStatus.Queued,
                Name = string.IsNullOrWhiteSpace(command.Name) ? $"{labels.Configuration.Name} on {command.Dataset}" : Truncate(command.Name, 200),
                ConfigurationName = labels.Configuration.Name,
                ConfigurationJson = ConfigurationJson.Serialize(labels.Configuration),
                RequestJson = JsonSerializer.Serialize(command with { ConfigurationJson = null }, Json),
                Dataset = command.Dataset,
                ValidationDataset = command.ValidationDataset,
                CreatedAt = DateTimeOffset.UtcNow,
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
            if (command.Split is not ("val" or "train")) return Reject($"split: '{Truncate(command.Split, 40)}' is not val or train");
            if (command.MaxImages is < 1) return Reject($"maxImages: {command.MaxImages} must be at least 1");
            dataRoot.Resolve(command.Dataset);
            var (modelPath, version, sourceRun, step) = await LocateModelAsync(command, db, cancellationToken);
            var manifest = ModelArtifact.ReadManifest(modelPath);

            return new PlannedRun(new Run
            {
                Id = command.RunId,
                Kind = RunKind.Evaluation,
                Status = RunStatus.Queued,
                Name = string.IsNullOrWhiteSpace(command.Name)
                    ? $"evaluate {(version is null ? $"run {sourceRun:N}"[..12] : $"{version.Name} v{version.Version}")} on {command.Dataset}"
                    : Truncate(command.Name, 200),
                ConfigurationName = manifest.Configuration.Name,
                ConfigurationJson = ConfigurationJson.Serialize(manifest.Configuration),
                RequestJson = JsonSerializer.Serialize(command, Json),
                Dataset = command.Dataset,
                CreatedAt = DateTimeOffset.UtcNow,
                OutputDirectory = modelPath,
                ModelVersionId = version?.Id,
                SourceRunId = sourceRun,
                SourceCheckpointStep = step,
            }, null);
        }
        catch (Exception e) when (e is InvalidDatasetNameException or DatasetException or ArtifactException)
        {
            return Reject(e.Message);
        }
    }

    /// <summary>The trainer's options for a recorded training run.</summary>
    public TrainingOptions TrainingOptionsFor(Run run)
    {
        var command = JsonSerializer.Deserialize<SubmitTraining>(run.RequestJson, Json)
            ?? throw new InvalidDataException($"run {run.Id} has no request");
        var configuration = ConfigurationFile.Parse(run.ConfigurationJson, $"run {run.Id}");
        var dataPath = dataRoot.Resolve(run.Dataset);
        return TrainingOptionsFor(command, LabelSpace.For(configuration, dataPath), dataPath, run.OutputDirectory ?? RunDirectory(run.Id));
    }

    public string ResolveDataset(string name) => dataRoot.Resolve(name);

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

    private static SqueezeNextConfiguration ResolveConfiguration(SubmitTraining command)
    {
        var configuration = command.ConfigurationJson is { } json
            ? ConfigurationFile.Parse(json, "configurationJson")
            : ConfigurationCatalog.Get(command.Configuration ?? "");
        return new RecipeOverrides(command.Epochs, command.BatchSize, command.LearningRate, command.WarmupSteps,
            command.WeightDecay, command.PreciseBatchNormBatches).ApplyTo(configuration);
    }

    private TrainingOptions TrainingOptionsFor(SubmitTraining command, LabelSpace labels, string dataPath, string outputDirectory) => new()
    {
        Configuration = labels.Configuration,
        TrainData = dataPath,
        ValidationData = command.ValidationDataset is null ? null : dataRoot.Resolve(command.ValidationDataset),
        OutputDirectory = outputDirectory,
        ClassOrder = labels.ClassOrder,
        ModelClasses = labels.ModelClasses,
        MaxSteps = command.MaxSteps,
        EvalEverySteps = command.EvalEverySteps ?? 0,
        EvalMaxImages = command.EvalMaxImages,
        CheckpointEverySteps = command.CheckpointEverySteps ?? 0,
        CheckpointEveryMinutes = command.CheckpointEveryMinutes ?? options.Value.CheckpointEveryMinutes,
        Device = options.Value.Device,
        LoaderThreads = options.Value.LoaderThreads,
        Seed = command.Seed ?? 0,
    };

    private static PlannedRun Reject(string reason) => new(null, reason);

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];
}
