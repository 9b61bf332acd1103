namespace SqueezeNext.Contracts;

/// <summary>Event and answer: an import was recorded as the run <paramref name="RunId"/>, which will make <paramref name="Version"/> of <paramref name="Dataset"/>.</summary>
public sealed record DatasetImportQueued(Guid RunId, string Dataset, int Version, bool Duplicate, DateTimeOffset QueuedAt);
