namespace SqueezeNext.Contracts;

/// <summary>Event: a run stopped with an error it cannot recover from (bad data, divergence); the reason says which.</summary>
public sealed record RunFailed(Guid RunId, string Reason, long Step, DateTimeOffset Time);
