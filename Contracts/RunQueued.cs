namespace SqueezeNext.Contracts;

/// <summary>Event and answer: a run was recorded and waits for a worker. <paramref name="Duplicate"/> is true when the run already existed.</summary>
/// <param name="Kind">"training" or "evaluation".</param>
public sealed record RunQueued(Guid RunId, string Kind, string Configuration, string Dataset, bool Duplicate, DateTimeOffset QueuedAt);
