namespace SqueezeNext.Contracts;

/// <summary>Command: make a model version the serving version of its name. Answered with <see cref="ModelPromoted"/> or <see cref="CommandRejected"/>.</summary>
/// <param name="CommandId">Client-chosen id (idempotency key).</param>
public sealed record PromoteModel(Guid CommandId, string ModelName, int Version);
