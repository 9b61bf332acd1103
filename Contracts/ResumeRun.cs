namespace SqueezeNext.Contracts;

/// <summary>Command: queue a cancelled or failed training run again; it continues from its newest checkpoint.</summary>
/// <param name="CommandId">Client-chosen id (idempotency key).</param>
public sealed record ResumeRun(Guid CommandId, Guid RunId);
