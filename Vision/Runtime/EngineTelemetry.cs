using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SqueezeNext.Vision.Runtime;

/// <summary>
/// The engine's spans and instruments (activity source and meter "SqueezeNext.Engine"): spans for each training
/// epoch, evaluation and checkpoint, never one per step; step, evaluation and checkpoint times and images trained as
/// metrics. A host that listens (the worker's OpenTelemetry) records them; without a listener they cost nothing.
/// </summary>
public static class EngineTelemetry
{
    public const string Name = "SqueezeNext.Engine";

    public static readonly ActivitySource Source = new(Name);

    // Static like the source: the engine is a library without a container, and an instrument nobody listens to is free.
    private static readonly Meter Meter = new(Name);

    private static readonly InstrumentAdvice<double> SecondsFromMillisecondsToMinutes = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    };

    public static readonly Histogram<double> StepTime = Meter.CreateHistogram("sqnxt.training.step_time", "s",
        "Wall time of one training step, reading its batch included (evaluations and checkpoints excluded)", advice: SecondsFromMillisecondsToMinutes);

    public static readonly Counter<long> ImagesTrained = Meter.CreateCounter<long>("sqnxt.training.images", "{image}",
        "Images trained on; its rate is the training throughput");

    public static readonly Histogram<double> EvaluationTime = Meter.CreateHistogram("sqnxt.training.evaluation_time", "s",
        "Wall time of an evaluation during training, batch-norm recalibration included", advice: SecondsFromMillisecondsToMinutes);

    public static readonly Histogram<double> CheckpointTime = Meter.CreateHistogram("sqnxt.training.checkpoint_time", "s",
        "Wall time to write a training checkpoint", advice: SecondsFromMillisecondsToMinutes);

    /// <summary>The tag every training instrument carries: which published configuration trains.</summary>
    public static KeyValuePair<string, object?> Configuration(string name) => new("configuration", name);
}
