namespace SqueezeNext.Contracts;

/// <summary>Event and answer: a model version became the serving version of its name.</summary>
public sealed record ModelPromoted(Guid CommandId, string ModelName, int Version, DateTimeOffset Time);
