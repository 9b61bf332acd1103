using System.Diagnostics;

namespace SqueezeNext.Vision.Runtime;

/// <summary>
/// The engine's spans (activity source "SqueezeNext.Engine"): one per training epoch, evaluation and checkpoint, never
/// one per step. A host that listens (the worker's OpenTelemetry) records them; without a listener they cost nothing.
/// </summary>
public static class EngineTracing
{
    public const string SourceName = "SqueezeNext.Engine";

    public static readonly ActivitySource Source = new(SourceName);
}
