using SqueezeNext.Vision.Configuration;

namespace SqueezeNext.Vision.Training;

/// <summary>Everything one training run needs besides the configuration's recipe.</summary>
public sealed record TrainingOptions
{
    /// <summary>The configuration to train (its architecture's class count must fit the data; see <see cref="Data.LabelSpace"/>).</summary>
    public required SqueezeNextConfiguration Configuration { get; init; }

    /// <summary>Dataset directory whose training split is used.</summary>
    public required string TrainData { get; init; }

    /// <summary>Dataset directory whose validation split is evaluated; null: the training directory's, if it has one.</summary>
    public string? ValidationData { get; init; }

    /// <summary>Where checkpoints, the best model and the final model go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Class names in label order; null: discovered from the training data.</summary>
    public IReadOnlyList<string>? ClassOrder { get; init; }

    /// <summary>Labels stored in the model; null means the 1000 ImageNet classes.</summary>
    public IReadOnlyList<string>? ModelClasses { get; init; }

    /// <summary>Total optimiser steps (the schedule's T); null: epochs × steps per epoch.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Evaluate every N steps; 0: at the end of each epoch.</summary>
    public int EvalEverySteps { get; init; }

    /// <summary>Evaluate at most this many validation images (the first ones); null: all.</summary>
    public int? EvalMaxImages { get; init; }

    /// <summary>Write a checkpoint every N steps (0: by time only).</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Write a checkpoint when this many minutes passed since the last (0: by steps only).</summary>
    public double CheckpointEveryMinutes { get; init; } = 10;

    /// <summary>Checkpoints kept (the newest); the best model is kept apart.</summary>
    public int KeepCheckpoints { get; init; } = 5;

    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Threads decoding and augmenting images.</summary>
    public int LoaderThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Threads libtorch uses for its operators; null leaves libtorch's default.</summary>
    public int? TorchThreads { get; init; }

    /// <summary>Seeds initialisation, data order and augmentation.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Which attempt at the run this is (a job system's fencing token; 0 outside one). Each attempt names its
    /// checkpoints apart, so two attempts that reach the same step never write the same directory.
    /// </summary>
    public int Attempt { get; init; }

    /// <summary>Continue from the newest checkpoint in the output directory.</summary>
    public bool Resume { get; init; }

    /// <summary>Continue from this checkpoint directory (a job system's newest recorded one) instead of the newest on disk.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Report training metrics every N steps.</summary>
    public int LogEverySteps { get; init; } = 10;

    /// <summary>Problems with these options, naming the option.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Configuration.Validate());
        if (MaxSteps is < 1) problems.Add($"maxSteps: {MaxSteps} must be at least 1");
        if (EvalEverySteps < 0) problems.Add($"evalEverySteps: {EvalEverySteps} must be 0 or more");
        if (EvalMaxImages is < 1) problems.Add($"evalMaxImages: {EvalMaxImages} must be at least 1");
        if (CheckpointEverySteps < 0) problems.Add($"checkpointEverySteps: {CheckpointEverySteps} must be 0 or more");
        if (!double.IsFinite(CheckpointEveryMinutes) || CheckpointEveryMinutes < 0) problems.Add($"checkpointEveryMinutes: {CheckpointEveryMinutes} must be 0 or more");
        if (Attempt < 0) problems.Add($"attempt: {Attempt} must be 0 or more");
        if (KeepCheckpoints < 1) problems.Add($"keepCheckpoints: {KeepCheckpoints} must be at least 1");
        if (LoaderThreads is < 1 or > 64) problems.Add($"loaderThreads: {LoaderThreads} is outside 1..64");
        if (TorchThreads is < 1 or > 256) problems.Add($"torchThreads: {TorchThreads} is outside 1..256");
        if (LogEverySteps < 1) problems.Add($"logEverySteps: {LogEverySteps} must be at least 1");
        return problems;
    }
}
