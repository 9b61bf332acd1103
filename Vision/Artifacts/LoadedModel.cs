namespace SqueezeNext.Vision.Artifacts;

/// <summary>A network loaded from an artifact, with the manifest that describes it.</summary>
public sealed class LoadedModel(SqueezeNextNetwork network, ModelManifest manifest) : IDisposable
{
    public SqueezeNextNetwork Network { get; } = network;
    public ModelManifest Manifest { get; } = manifest;
    public SqueezeNextConfiguration Configuration => Manifest.Configuration;

    public void Dispose() => Network.Dispose();
}
