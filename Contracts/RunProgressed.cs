namespace SqueezeNext.Contracts;

/// <summary>Event: a run's latest metrics (published a few times a second at most).</summary>
/// <param name="Metrics">Metric name → value at <paramref name="Step"/> ("train_loss", "lr", "images_per_second", "val_top1", ...).</param>
public sealed record RunProgressed(
    Guid RunId,
    long Step,
    long TotalSteps,
    int Epoch,
    IReadOnlyDictionary<string, double> Metrics,
    double? EtaSeconds,
    DateTimeOffset Time);
