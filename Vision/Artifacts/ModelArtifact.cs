using System.Security.Cryptography;
using System.Text.Json;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>The weights file formats <see cref="ModelArtifact.Import"/> reads.</summary>
public enum WeightsFormat
{
    Safetensors,

    /// <summary>A state dict as PyTorch's <c>torch.save</c> writes it.</summary>
    Pytorch,
}

/// <summary>A network loaded from an artifact, with the manifest that describes it.</summary>
public sealed class LoadedModel(SqueezeNextNetwork network, ModelManifest manifest) : IDisposable
{
    public SqueezeNextNetwork Network { get; } = network;
    public ModelManifest Manifest { get; } = manifest;
    public SqueezeNextConfiguration Configuration => Manifest.Configuration;

    public void Dispose() => Network.Dispose();
}

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

    /// <summary>Metadata key of a standalone safetensors export that holds the configuration as JSON.</summary>
    public const string ConfigurationMetadataKey = "sqnxt.configuration";

    /// <summary>Metadata key of a standalone safetensors export that holds the class labels as a JSON array.</summary>
    public const string ClassesMetadataKey = "sqnxt.classes";

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

    /// <summary>Writes the artifact's weights as one safetensors file whose metadata carries configuration and classes.</summary>
    public static void ExportSafetensors(string directory, string file)
    {
        using var model = Load(directory);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ConfigurationMetadataKey] = JsonSerializer.Serialize(model.Configuration, ConfigurationJson.Options),
        };
        if (model.Manifest.Classes is { } classes)
            metadata[ClassesMetadataKey] = JsonSerializer.Serialize(classes);
        SafetensorsFile.Write(file, StateTensors(model.Network), metadata);
    }

    /// <summary>
    /// Writes the artifact's weights as a PyTorch state dict (what <c>torch.load</c> reads), named as pytorchcv names
    /// them when the configuration has pytorchcv's layout (so pytorchcv's model loads it), as this project does otherwise.
    /// </summary>
    public static void ExportPytorch(string directory, string file)
    {
        using var model = Load(directory);
        Func<string, string> name = model.Configuration.Architecture.ConvBias ? PytorchcvNames.FromProject : n => n;
        var table = new System.Collections.Hashtable();
        foreach (var (tensorName, tensor) in StateTensors(model.Network)) table[name(tensorName)] = tensor;
        var directoryOfFile = Path.GetDirectoryName(Path.GetFullPath(file))!;
        Directory.CreateDirectory(directoryOfFile);
        var temporary = Path.Combine(directoryOfFile, $".{Path.GetFileName(file)}.{Guid.NewGuid():N}.tmp");
        try
        {
            TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(temporary, table);
            File.Move(temporary, file, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// Builds an artifact from a weights file: a safetensors file (this project's export, whose metadata carries the
    /// configuration and classes, or any file with this project's or pytorchcv's tensor names) or a PyTorch state dict.
    /// pytorchcv names (SQUEEZENEXT.md §9) are mapped to this project's; every tensor must be present with its shape
    /// and nothing may be left over, and every problem is named as the file names it. Nothing is written unless all fit.
    /// </summary>
    /// <param name="configuration">The configuration the weights belong to; a state dict carries none, so it is required then.</param>
    public static ModelManifest Import(string file, WeightsFormat format, SqueezeNextConfiguration? configuration, string directory)
    {
        if (!File.Exists(file))
            throw new ArtifactException($"'{file}' does not exist");
        if (format == WeightsFormat.Pytorch && configuration is null)
            throw new ArtifactException($"a PyTorch state dict carries no configuration: name the one '{file}' belongs to with --config " +
                $"(for pytorchcv's weights, {string.Join(", ", ConfigurationCatalog.PytorchcvNames)})");
        var (tensors, metadata) = format == WeightsFormat.Pytorch
            ? (PytorchStateDict.Read(file), new Dictionary<string, string>())
            : SafetensorsFile.Read(file);
        try
        {
            SqueezeNextConfiguration? embedded = null;
            if (metadata.TryGetValue(ConfigurationMetadataKey, out var json))
                embedded = ConfigurationFile.Parse(json, $"the configuration in '{file}'");
            var chosen = configuration ?? embedded ?? throw new ArtifactException($"'{file}' carries no configuration in its metadata; name one with --config");
            if (configuration is not null && embedded is not null)
                EnsureSameArchitecture(embedded, configuration, $"the weights in '{file}'");

            IReadOnlyList<string>? classes = null;
            if (metadata.TryGetValue(ClassesMetadataKey, out var classesJson))
                classes = JsonSerializer.Deserialize<string[]>(classesJson);

            bool pytorchcv = PytorchcvNames.Uses(tensors.Select(t => t.Name));
            if (pytorchcv && !chosen.Architecture.ConvBias)
                throw new ArtifactException(
                    $"'{file}' has pytorchcv's tensor names, whose convolutions have biases, but configuration '{chosen.Name}' has none: " +
                    $"import it with one of {string.Join(", ", ConfigurationCatalog.PytorchcvNames)}");
            var named = pytorchcv ? tensors.Select(t => (PytorchcvNames.ToProject(t.Name), t.Tensor)).ToList() : tensors;

            using var network = new SqueezeNextNetwork(chosen.Architecture, chosen.Training.Init);
            LoadWeights(network, named, $"'{file}'", chosen.Name, pytorchcv ? PytorchcvNames.FromProject : null);
            var origin = $"imported from {Path.GetFileName(file)}" + (pytorchcv ? " (pytorchcv tensor names)" : "");
            return Save(directory, network, chosen, classes, origin);
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }

    /// <summary>The format of a weights file, from its extension when not given: .pth, .pt and .bin are PyTorch.</summary>
    public static WeightsFormat FormatOf(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".pth" or ".pt" or ".bin" => WeightsFormat.Pytorch,
        _ => WeightsFormat.Safetensors,
    };

    /// <summary>The network's parameters and buffers in state-dict order.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> StateTensors(SqueezeNextNetwork network) =>
        network.state_dict().Select(pair => (pair.Key, pair.Value));

    private static void EnsureSameArchitecture(SqueezeNextConfiguration saved, SqueezeNextConfiguration expected, string what)
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
