namespace SqueezeNext.Contracts;

/// <summary>
/// The keys of <see cref="RunProgressed.Metrics"/> and <see cref="CheckpointSaved.Metrics"/>, and the names metric
/// rows are stored under. The engine names them in its own <c>TrainingMetrics</c> (it depends on nothing of ours); a
/// test keeps the two equal.
/// </summary>
public static class RunMetricNames
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
