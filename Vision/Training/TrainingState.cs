namespace SqueezeNext.Vision.Training;

/// <summary>
/// <c>state.json</c> of a checkpoint: where in the run it was taken. Data order and augmentation depend only on
/// (seed, epoch, sample), so seed, epoch and batch are the loader's complete random state.
/// </summary>
public sealed record TrainingState
{
    /// <summary>Optimiser steps done.</summary>
    public long Step { get; init; }

    /// <summary>Epoch the next step belongs to (from 0).</summary>
    public int Epoch { get; init; }

    /// <summary>Batch of <see cref="Epoch"/> the next step reads (from 0).</summary>
    public int BatchInEpoch { get; init; }

    public long TotalSteps { get; init; }

    public int StepsPerEpoch { get; init; }

    public long Seed { get; init; }

    /// <summary>Best validation top-1 so far, or null before the first evaluation.</summary>
    public double? BestTop1 { get; init; }

    public long? BestStep { get; init; }

    /// <summary>Training time before this checkpoint, summed over resumes.</summary>
    public double ElapsedSeconds { get; init; }

    public DateTimeOffset SavedAt { get; init; }
}
