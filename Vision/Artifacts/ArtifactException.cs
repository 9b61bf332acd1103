namespace SqueezeNext.Vision.Artifacts;

/// <summary>A model artifact or weights file that cannot be read, or does not fit the configuration it is loaded under.</summary>
public sealed class ArtifactException(string message) : Exception(message);
