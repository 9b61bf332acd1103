using SqueezeNext.Vision.Evaluation;

namespace SqueezeNext.Vision.Training;

public enum TrainingOutcome
{
    Completed,
    Cancelled,
}

/// <summary>How a training run ended and where its outputs are.</summary>
public sealed record TrainingResult(
    TrainingOutcome Outcome,
    long Step,
    long TotalSteps,
    int Epoch,
    double? BestTop1,
    EvaluationReport? LastEvaluation,
    string? ModelDirectory,
    string? BestModelDirectory,
    string? LastCheckpoint,
    TimeSpan Elapsed);
