namespace SqueezeNext.Contracts;

/// <summary>Command: stop a queued or running run. A running run checkpoints and stops within one batch.</summary>
/// <param name="CommandId">Client-chosen id (idempotency key).</param>
public sealed record CancelRun(Guid CommandId, Guid RunId, string? Reason = null);
