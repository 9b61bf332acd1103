namespace SqueezeNext.Contracts;

/// <summary>Event: a run stopped because it was cancelled; a training run can be resumed from <paramref name="Step"/>.</summary>
public sealed record RunCancelled(Guid RunId, long Step, string? Reason, DateTimeOffset Time);
