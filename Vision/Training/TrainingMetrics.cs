namespace SqueezeNext.Vision.Training;

/// <summary>
/// The names of a training run's metrics: the trainer reports them, the worker stores them and publishes them in
/// RunProgressed, the dashboard draws them. Stored as these strings, so a name may never change; Contracts repeats
/// them for the message's readers (RunMetricNames, kept equal by a test).
/// </summary>
public static class TrainingMetrics
{
    /// <summary>Mean training loss over the last logging interval.</summary>
    public const string TrainLoss = "train_loss";

    /// <summary>Training top-1 over the last logging interval (of augmented images).</summary>
    public const string TrainTop1 = "train_top1";

    public const string LearningRate = "lr";

    /// <summary>Training images per second over the last logging interval.</summary>
    public const string ImagesPerSecond = "images_per_second";

    public const string ValidationLoss = "val_loss";
    public const string ValidationTop1 = "val_top1";
    public const string ValidationTop5 = "val_top5";

    /// <summary>Every metric a training run reports.</summary>
    public static IReadOnlyList<string> All { get; } = [TrainLoss, TrainTop1, LearningRate, ImagesPerSecond, ValidationLoss, ValidationTop1, ValidationTop5];
}
