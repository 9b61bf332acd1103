using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Api;

/// <summary>A page of a list: the rows, and how many there are in all.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Skip, int Take);

/// <summary>A run as lists show it.</summary>
public sealed record RunSummary(
    Guid Id, string Kind, string Status, string Name, string Configuration, string Dataset,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    long Step, long TotalSteps, int Epoch, double? BestTop1, double? LastTop1, double? LastTop5, double? LastLoss,
    double? ImagesPerSecond, double? EtaSeconds, string? Error)
{
    public static RunSummary Of(Run run) => new(
        run.Id, run.Kind.ToString().ToLowerInvariant(), run.Status.ToString().ToLowerInvariant(), run.Name, run.ConfigurationName, run.Dataset,
        run.CreatedAt, run.StartedAt, run.FinishedAt, run.Step, run.TotalSteps, run.Epoch, run.BestTop1, run.LastTop1, run.LastTop5, run.LastLoss,
        run.ImagesPerSecond, run.EtaSeconds, run.Error);
}

/// <summary>A checkpoint of a run: where in training it was made, and its validation metrics.</summary>
public sealed record CheckpointInfo(long Step, int Epoch, int Attempt, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset CreatedAt);

/// <summary>An evaluation run's result.</summary>
public sealed record EvaluationInfo(string Dataset, string Split, int Images, double? Loss, double Top1, double Top5, double ImagesPerSecond, JsonElement PerClass);

/// <summary>Everything about one run.</summary>
public sealed record RunDetails(
    RunSummary Run, JsonElement Configuration, JsonElement Plan, int? DatasetVersion, string? DatasetDigest, string? ValidationDataset, int Attempts, string? Worker,
    DateTimeOffset? HeartbeatAt, bool CancelRequested, string? CancelReason, int? ModelVersionId, Guid? SourceRunId, long? SourceCheckpointStep,
    IReadOnlyList<CheckpointInfo> Checkpoints, EvaluationInfo? Evaluation);

/// <summary>One recorded value of a metric.</summary>
public sealed record MetricValue(string Name, long Step, int Epoch, DateTimeOffset Time, double Value);

/// <summary>Something that happened to a run (started, checkpoint, failure, ...).</summary>
public sealed record RunEventInfo(long Id, DateTimeOffset Time, string Kind, string Level, string Message, int? Attempt);

/// <summary>The answer to an accepted submission or resume: the run, queued.</summary>
public sealed record RunAccepted(Guid RunId, string Kind, string Configuration, string Dataset, bool Duplicate, DateTimeOffset QueuedAt)
{
    public static RunAccepted Of(RunQueued queued) => new(queued.RunId, queued.Kind, queued.Configuration, queued.Dataset, queued.Duplicate, queued.QueuedAt);
}

/// <summary>
/// A training submission. <see cref="RunId"/> is the idempotency key: sending the same id twice makes one run (chosen
/// by the server when left out). Settings left out take the configuration's recipe or their default.
/// </summary>
public sealed record TrainingRequest(
    [property: Required] string Configuration,
    [property: Required] string Dataset,
    Guid? RunId = null,
    string? ConfigurationJson = null,
    string? ValidationDataset = null,
    [property: StringLength(200)] string? Name = null,
    TrainingSettings? Settings = null) : IValidatableObject
{
    /// <summary>Fields the request does not have; kept to refuse them rather than train with what they meant left out.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        (UnknownFields ?? []).Keys.Select(name => new ValidationResult(
            TrainingSettings.Fields.Any(f => f.Name == name)
                ? $"{name}: a run setting goes under settings (settings.{name})"
                : $"{name}: not a field of a training request", [name]));

    public SubmitTraining ToCommand() => new(RunId ?? MassTransit.NewId.NextGuid(), Configuration, Dataset, ConfigurationJson, ValidationDataset, Name, Settings);
}

/// <summary>
/// An evaluation submission: a registered model (name, and version or the serving one) or a training run's model (at a
/// checkpoint or its final one). <see cref="RunId"/> is the idempotency key.
/// </summary>
public sealed record EvaluationRequest(
    [property: Required] string Dataset,
    Guid? RunId = null,
    string? ModelName = null,
    int? ModelVersion = null,
    Guid? SourceRunId = null,
    long? CheckpointStep = null,
    [property: RegularExpression("^(val|train)$")] string Split = "val",
    [property: Range(1, int.MaxValue)] int? MaxImages = null,
    [property: StringLength(200)] string? Name = null)
{
    public SubmitEvaluation ToCommand() => new(RunId ?? MassTransit.NewId.NextGuid(), Dataset, ModelName, ModelVersion, SourceRunId, CheckpointStep, Split, MaxImages, Name);
}

/// <summary>A cancel or resume. <see cref="CommandId"/> is the idempotency key.</summary>
public sealed record RunCommandRequest(Guid? CommandId = null, [property: StringLength(500)] string? Reason = null);

/// <summary>Registers a training run's model (a checkpoint, or its final model) as the next version. <see cref="CommandId"/> is the idempotency key.</summary>
public sealed record RegisterRequest([property: Required] Guid RunId, long? CheckpointStep = null, [property: StringLength(1000)] string? Description = null, Guid? CommandId = null);

/// <summary>A promotion. <see cref="CommandId"/> is the idempotency key.</summary>
public sealed record PromoteRequest(Guid? CommandId = null);

/// <summary>A model name with its versions' count and the version that serves.</summary>
public sealed record ModelSummary(string Name, int Versions, int? ServingVersion, int LatestVersion, string Configuration, DateTimeOffset UpdatedAt);

/// <summary>One version of a model, with its newest evaluation.</summary>
public sealed record ModelVersionInfo(
    string Name, int Version, string Configuration, bool Serving, string? Description, Guid? SourceRunId, long? CheckpointStep,
    DateTimeOffset CreatedAt, DateTimeOffset? PromotedAt, double? Top1, double? Top5, string? EvaluatedOn)
{
    public static ModelVersionInfo Of(ModelVersion v, EvaluationResult? e, string? dataset) => new(
        v.Name, v.Version, v.ConfigurationName, v.IsServing, v.Description, v.SourceRunId, v.CheckpointStep, v.CreatedAt, v.PromotedAt, e?.Top1, e?.Top5, dataset);
}

/// <summary>The answer to a register, import or promote.</summary>
public sealed record ModelVersionChanged(string Name, int Version, DateTimeOffset Time);

/// <summary>A named configuration as the workers publish it.</summary>
public sealed record ConfigurationInfo(string Name, string Description, string Source, long Parameters, long Macs, JsonElement Configuration);

/// <summary>The top classes of an image, from the worker that classified it.</summary>
public sealed record ClassifyResult(Guid RequestId, string ModelName, int ModelVersion, IReadOnlyList<ClassPrediction> Predictions, double InferenceMilliseconds, int BatchSize);

/// <summary>Who the token belongs to.</summary>
public sealed record WhoAmI(string Name, string Role, string? TokenName, DateTimeOffset? TokenExpiresAt);

/// <summary>A dataset: versioned (its newest ready version's figures) or a folder on the workers' data roots (as last seen).</summary>
public sealed record DatasetInfo(
    string Name, string Kind, string? Layout, int Classes, int TrainImages, int? ValidationImages, string? Error,
    int Versions, int? LatestVersion, string? Digest, long? SizeBytes, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? SeenAt, int? ImportingVersion)
{
    public static DatasetInfo Of(DatasetRow row) => new(
        row.Dataset.Name, row.Dataset.Kind, row.IsVersioned ? row.Latest?.Layout : row.Dataset.Layout, row.Classes, row.TrainImages, row.ValidationImages,
        row.Dataset.Error, row.Versions, row.Latest?.Version, row.Latest?.Digest, row.Latest?.SizeBytes, row.Dataset.CreatedBy, row.Dataset.CreatedAt,
        row.IsVersioned ? null : row.Dataset.SeenAt, row.Importing?.Version);
}

/// <summary>One version of a versioned dataset. <see cref="Runs"/> lists the runs that read it (only when one version is asked for).</summary>
public sealed record DatasetVersionInfo(
    string Dataset, int Version, string Status, string? Digest, string? Layout, IReadOnlyList<DatasetClassCount> Classes, int TrainImages, int ValidationImages,
    long SizeBytes, string Source, string SourceName, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? ReadyAt, Guid ImportRunId, string? Error,
    ImportReportView? Report, IReadOnlyList<Guid>? Runs)
{
    public static DatasetVersionInfo Of(DatasetVersion version, IReadOnlyList<Guid>? runs, string? reportJson = null) => new(
        version.DatasetName, version.Version, version.Status.ToString().ToLowerInvariant(), version.Digest, version.Layout, DatasetDisplay.Classes(version),
        version.TrainImages, version.ValidationImages, version.SizeBytes, version.Source, version.SourceName, version.CreatedBy, version.CreatedAt, version.ReadyAt,
        version.ImportRunId, version.Error, DatasetDisplay.Report(reportJson), runs);
}

/// <summary>A dataset with its versions, newest first.</summary>
public sealed record DatasetDetails(DatasetInfo Dataset, IReadOnlyList<DatasetVersionInfo> Versions);
