namespace SqueezeNext.Contracts;

/// <summary>Event: a worker claimed a run. <paramref name="Attempt"/> counts claims (above 1 after a resume).</summary>
public sealed record RunStarted(Guid RunId, string Worker, int Attempt, long Step, DateTimeOffset StartedAt);
