using SqueezeNext.Vision.Evaluation;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>How a job ended, which decides what the runner records for its run.</summary>
public abstract record JobOutcome
{
    /// <summary>The work ran to its end.</summary>
    public sealed record Completed(double? Top1, double? Top5, double? BestTop1, EvaluationReport? Evaluation, ImportEnding? Imported = null) : JobOutcome;

    /// <summary>The work stopped early, at a checkpoint (a training run) or between batches.</summary>
    public sealed record Stopped : JobOutcome;

    /// <summary>The user cancelled the run.</summary>
    public sealed record Cancelled : JobOutcome;

    /// <summary>The worker is shutting down: the run goes back to the queue.</summary>
    public sealed record Released : JobOutcome;

    public sealed record Failed(Exception Error) : JobOutcome;

    /// <summary>The attempt lost its lease: another attempt may hold the run, so nothing more is written for it.</summary>
    public sealed record LeaseLost : JobOutcome;
}
