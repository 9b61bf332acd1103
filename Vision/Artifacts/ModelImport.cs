using System.Text.Json;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>The weights file formats <see cref="ModelImport.FromFile"/> reads.</summary>
public enum WeightsFormat
{
    Safetensors,

    /// <summary>A state dict as PyTorch's <c>torch.save</c> writes it.</summary>
    Pytorch,
}

/// <summary>Model artifacts made from weights files of this project's exports, of pytorchcv, or of any PyTorch state dict.</summary>
public static class ModelImport
{
    /// <summary>
    /// Builds an artifact from a weights file: a safetensors file (this project's export, whose metadata carries the
    /// configuration and classes, or any file with this project's or pytorchcv's tensor names) or a PyTorch state dict.
    /// pytorchcv names (SQUEEZENEXT.md §9) are mapped to this project's; every tensor must be present with its shape
    /// and nothing may be left over, and every problem is named as the file names it. Nothing is written unless all fit.
    /// </summary>
    /// <param name="configuration">The configuration the weights belong to; a state dict carries none, so it is required then.</param>
    public static ModelManifest FromFile(string file, WeightsFormat format, SqueezeNextConfiguration? configuration, string directory)
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
            if (metadata.TryGetValue(ModelExport.ConfigurationMetadataKey, out var json))
                embedded = ConfigurationFile.Parse(json, $"the configuration in '{file}'");
            var chosen = configuration ?? embedded ?? throw new ArtifactException($"'{file}' carries no configuration in its metadata; name one with --config");
            if (configuration is not null && embedded is not null)
                ModelArtifact.EnsureSameArchitecture(embedded, configuration, $"the weights in '{file}'");

            IReadOnlyList<string>? classes = null;
            if (metadata.TryGetValue(ModelExport.ClassesMetadataKey, out var classesJson))
                classes = JsonSerializer.Deserialize<string[]>(classesJson);

            bool pytorchcv = PytorchcvNames.Uses(tensors.Select(t => t.Name));
            if (pytorchcv && !chosen.Architecture.ConvBias)
                throw new ArtifactException(
                    $"'{file}' has pytorchcv's tensor names, whose convolutions have biases, but configuration '{chosen.Name}' has none: " +
                    $"import it with one of {string.Join(", ", ConfigurationCatalog.PytorchcvNames)}");
            var named = pytorchcv ? tensors.Select(t => (PytorchcvNames.ToProject(t.Name), t.Tensor)).ToList() : tensors;

            using var network = new SqueezeNextNetwork(chosen.Architecture, chosen.Training.Init);
            ModelArtifact.LoadWeights(network, named, $"'{file}'", chosen.Name, pytorchcv ? PytorchcvNames.FromProject : null);
            var origin = $"imported from {Path.GetFileName(file)}" + (pytorchcv ? " (pytorchcv tensor names)" : "");
            return ModelArtifact.Save(directory, network, chosen, classes, origin);
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
}
