namespace SqueezeNext.Contracts;

/// <summary>
/// Command: evaluate a model on a dataset split as a background run (loss, top-1, top-5, per-class accuracy). The
/// model is a registered version (<paramref name="ModelName"/>, <paramref name="ModelVersion"/>; the serving version
/// when the version is null) or a training run's output (<paramref name="SourceRunId"/>, at <paramref name="CheckpointStep"/>
/// or its final model). Answered with <see cref="RunQueued"/> or <see cref="CommandRejected"/>.
/// </summary>
/// <param name="RunId">Client-chosen id of the evaluation run (idempotency key).</param>
/// <param name="Dataset">Name of a dataset under the worker's data root.</param>
/// <param name="Split">"val" or "train".</param>
/// <param name="MaxImages">Evaluate only the first N images.</param>
public sealed record SubmitEvaluation(
    Guid RunId,
    string Dataset,
    string? ModelName = null,
    int? ModelVersion = null,
    Guid? SourceRunId = null,
    long? CheckpointStep = null,
    string Split = "val",
    int? MaxImages = null,
    string? Name = null);
