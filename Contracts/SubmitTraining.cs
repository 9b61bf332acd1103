namespace SqueezeNext.Contracts;

/// <summary>
/// Command: train a configuration on a dataset as a background run. <see cref="RunId"/> is chosen by the sender and
/// becomes the run's id: delivering the same command twice creates one run. Answered with <see cref="RunQueued"/>
/// or <see cref="CommandRejected"/>.
/// </summary>
/// <param name="RunId">Client-chosen id of the run (idempotency key).</param>
/// <param name="Configuration">A named configuration (see <c>sqnxt configs</c>); ignored when <paramref name="ConfigurationJson"/> is given.</param>
/// <param name="Dataset">Name of a dataset under the worker's data root (never a path).</param>
/// <param name="ConfigurationJson">A user configuration document (a base and overrides), instead of a name.</param>
/// <param name="ValidationDataset">Dataset to validate on; null: the training dataset's validation split.</param>
/// <param name="Name">Display name of the run.</param>
/// <param name="Epochs">Overrides the configuration's epochs.</param>
/// <param name="MaxSteps">Total optimiser steps instead of epochs.</param>
/// <param name="BatchSize">Overrides the configuration's batch size.</param>
/// <param name="LearningRate">Overrides the base learning rate.</param>
/// <param name="WarmupSteps">Overrides the warmup steps.</param>
/// <param name="WeightDecay">Overrides the weight decay.</param>
/// <param name="PreciseBatchNormBatches">Overrides the BatchNorm recalibration batches.</param>
/// <param name="Seed">Seed for initialisation, data order and augmentation.</param>
/// <param name="EvalEverySteps">Evaluate every N steps (0: every epoch).</param>
/// <param name="EvalMaxImages">Evaluate on at most N validation images.</param>
/// <param name="CheckpointEverySteps">Checkpoint every N steps (0: by time).</param>
/// <param name="CheckpointEveryMinutes">Checkpoint every N minutes.</param>
public sealed record SubmitTraining(
    Guid RunId,
    string Configuration,
    string Dataset,
    string? ConfigurationJson = null,
    string? ValidationDataset = null,
    string? Name = null,
    int? Epochs = null,
    long? MaxSteps = null,
    int? BatchSize = null,
    double? LearningRate = null,
    int? WarmupSteps = null,
    double? WeightDecay = null,
    int? PreciseBatchNormBatches = null,
    long? Seed = null,
    int? EvalEverySteps = null,
    int? EvalMaxImages = null,
    int? CheckpointEverySteps = null,
    double? CheckpointEveryMinutes = null);
