namespace SqueezeNext.Contracts;

/// <summary>Event and answer: a model version was registered (from a run, or imported: then <c>SourceRunId</c> is null).</summary>
public sealed record ModelRegistered(Guid CommandId, string ModelName, int Version, Guid? SourceRunId, long? CheckpointStep, DateTimeOffset Time);
