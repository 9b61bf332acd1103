namespace SqueezeNext.Contracts;

/// <summary>Event: a run's latest metrics (published a few times a second at most).</summary>
/// <param name="Metrics">Metric name → value at <paramref name="Step"/>: the names of <see cref="RunMetricNames"/>.</param>
public sealed record RunProgressed(
    Guid RunId,
    long Step,
    long TotalSteps,
    int Epoch,
    IReadOnlyDictionary<string, double> Metrics,
    double? EtaSeconds,
    DateTimeOffset Time);
