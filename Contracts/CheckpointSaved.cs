namespace SqueezeNext.Contracts;

/// <summary>Event: a run wrote a complete checkpoint.</summary>
public sealed record CheckpointSaved(Guid RunId, long Step, int Epoch, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset Time);
