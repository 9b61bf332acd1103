using System.Security.Cryptography;
using System.Text.Json;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>
/// A model artifact is a directory with <c>model.json</c> (<see cref="ModelManifest"/>) and
/// <c>weights.safetensors</c>. Tensor names follow the module tree, for example <c>stem.conv.weight</c>,
/// <c>stem.bn.running_mean</c>, <c>stage2.block1.sq1.conv.weight</c>, <c>stage2.block1.shortcut.bn.bias</c>,
/// <c>stage1.block1.projection.conv.weight</c> (projection-first blocks), <c>head.conv.weight</c> and
/// <c>classifier.weight</c>; docs/model-artifact.md lists them all.
/// </summary>
public static class ModelArtifact
{
    public const string ManifestFileName = "model.json";
    public const string WeightsFileName = "weights.safetensors";

    /// <summary>Writes weights, then the manifest (both atomically), so a directory with a manifest is always complete.</summary>
    public static ModelManifest Save(string directory, SqueezeNextNetwork network, SqueezeNextConfiguration configuration,
        IReadOnlyList<string>? classes = null, string origin = "")
    {
        var differences = network.Architecture.Differences(configuration.Architecture);
        if (differences.Count > 0)
            throw new ArtifactException($"the network was built for another architecture than configuration '{configuration.Name}' ({string.Join(", ", differences)} differ)");
        if (classes is not null && classes.Count != configuration.Architecture.NumClasses)
            throw new ArtifactException($"{classes.Count} class labels given for a network with {configuration.Architecture.NumClasses} outputs");

        Directory.CreateDirectory(directory);
        var weightsPath = Path.Combine(directory, WeightsFileName);
        SafetensorsFile.Write(weightsPath, StateTensors(network));
        var manifest = new ModelManifest
        {
            Configuration = configuration,
            Classes = classes,
            Origin = origin,
            CreatedAt = DateTimeOffset.UtcNow,
            TrainableParameters = network.Plan.TrainableParameters,
            WeightsSha256 = Sha256(weightsPath),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ManifestFileName), JsonSerializer.Serialize(manifest, ConfigurationJson.Options));
        return manifest;
    }

    /// <summary>Reads the manifest of an artifact directory, with a clear error when the directory is not one.</summary>
    public static ModelManifest ReadManifest(string directory)
    {
        if (!Directory.Exists(directory))
            throw new ArtifactException($"model directory '{directory}' does not exist");
        var manifestPath = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(manifestPath))
            throw new ArtifactException($"'{directory}' is not a model directory: it has no {ManifestFileName}");
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(manifestPath), ConfigurationJson.Options);
        }
        catch (JsonException e)
        {
            throw new ArtifactException($"'{manifestPath}' is not a valid model manifest: {e.Message}");
        }
        if (manifest is null)
            throw new ArtifactException($"'{manifestPath}' is empty");
        if (manifest.FormatVersion > ModelManifest.CurrentFormatVersion)
            throw new ArtifactException($"'{manifestPath}' has format version {manifest.FormatVersion}; this build reads up to {ModelManifest.CurrentFormatVersion}");
        var problems = manifest.Configuration.Validate();
        if (problems.Count > 0)
            throw new ArtifactException($"'{manifestPath}' holds an invalid configuration: {string.Join("; ", problems)}");
        return manifest;
    }

    /// <summary>
    /// Loads an artifact. When <paramref name="expected"/> is given, the artifact's architecture must equal it: weights
    /// never load silently under another architecture, even one with the same tensor shapes.
    /// </summary>
    public static LoadedModel Load(string directory, SqueezeNextConfiguration? expected = null)
    {
        var manifest = ReadManifest(directory);
        var saved = manifest.Configuration;
        if (expected is not null)
            EnsureSameArchitecture(saved, expected, $"the model in '{directory}'");

        var weightsPath = Path.Combine(directory, manifest.WeightsFile);
        if (!File.Exists(weightsPath))
            throw new ArtifactException($"'{directory}' is incomplete: its weights file {manifest.WeightsFile} is missing");
        if (manifest.WeightsSha256.Length > 0 && !string.Equals(Sha256(weightsPath), manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new ArtifactException($"'{weightsPath}' does not match the checksum in {ManifestFileName}: the file is corrupt or was replaced");

        var network = new SqueezeNextNetwork(saved.Architecture, saved.Training.Init);
        try
        {
            var (tensors, _) = SafetensorsFile.Read(weightsPath);
            try
            {
                LoadWeights(network, tensors, $"'{weightsPath}'", saved.Name);
            }
            finally
            {
                foreach (var (_, tensor) in tensors) tensor.Dispose();
            }
            return new LoadedModel(network, manifest);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies named tensors into the network after checking that they fit exactly: every tensor the network needs is
    /// present with its shape, and there is nothing extra. Every problem is named in the error.
    /// </summary>
    /// <param name="fileName">How the file names a tensor of this project, for the messages (default: the same).</param>
    public static void LoadWeights(SqueezeNextNetwork network, IEnumerable<(string Name, Tensor Tensor)> tensors, string origin, string configurationName,
        Func<string, string>? fileName = null)
    {
        fileName ??= name => name;
        var provided = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in tensors) provided[name] = tensor;
        var state = network.state_dict();

        var problems = new List<string>();
        foreach (var (name, target) in state)
        {
            if (!provided.TryGetValue(name, out var source))
                problems.Add($"missing tensor '{fileName(name)}' {Shape(target.shape)}");
            else if (!source.shape.SequenceEqual(target.shape))
                problems.Add($"tensor '{fileName(name)}' is {Shape(source.shape)} in the file but the configuration needs {Shape(target.shape)}");
            else if (is_floating_point(source) != is_floating_point(target))
                problems.Add($"tensor '{fileName(name)}' has dtype {source.dtype}, expected {target.dtype}");
        }
        foreach (var name in provided.Keys.Where(name => !state.ContainsKey(name)))
            problems.Add($"unexpected tensor '{fileName(name)}' {Shape(provided[name].shape)}");

        if (problems.Count > 0)
        {
            const int shown = 8;
            var list = string.Join("; ", problems.Take(shown));
            var more = problems.Count > shown ? $"; and {problems.Count - shown} more" : "";
            throw new ArtifactException($"the weights in {origin} do not fit configuration '{configurationName}' ({problems.Count} problems): {list}{more}");
        }

        using var noGrad = no_grad();
        foreach (var (name, target) in state) target.copy_(provided[name]);
    }

    /// <summary>The network's parameters and buffers in state-dict order.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> StateTensors(SqueezeNextNetwork network) =>
        network.state_dict().Select(pair => (pair.Key, pair.Value));

    internal static void EnsureSameArchitecture(SqueezeNextConfiguration saved, SqueezeNextConfiguration expected, string what)
    {
        var differences = saved.Architecture.Differences(expected.Architecture);
        if (differences.Count > 0)
            throw new ArtifactException(
                $"{what} was made with configuration '{saved.Name}' and does not fit configuration '{expected.Name}': {string.Join(", ", differences)} differ");
    }

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
