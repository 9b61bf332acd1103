namespace SqueezeNext.Contracts;

/// <summary>
/// Command: register a training run's model (its final model, or the checkpoint at <paramref name="CheckpointStep"/>)
/// as the next version of <paramref name="ModelName"/>. Answered with <see cref="ModelRegistered"/> or <see cref="CommandRejected"/>.
/// </summary>
/// <param name="CommandId">Client-chosen id (idempotency key).</param>
/// <param name="ModelName">Letters, digits, '.', '_' and '-'.</param>
public sealed record RegisterModel(Guid CommandId, string ModelName, Guid SourceRunId, long? CheckpointStep = null, string? Description = null);
