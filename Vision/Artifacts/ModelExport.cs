using System.Text.Json;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>An artifact's weights written as files that other tools read: safetensors, and PyTorch state dicts.</summary>
public static class ModelExport
{
    /// <summary>Metadata key of a standalone safetensors export that holds the configuration as JSON.</summary>
    public const string ConfigurationMetadataKey = "sqnxt.configuration";

    /// <summary>Metadata key of a standalone safetensors export that holds the class labels as a JSON array.</summary>
    public const string ClassesMetadataKey = "sqnxt.classes";

    /// <summary>Writes the artifact's weights as one safetensors file whose metadata carries configuration and classes.</summary>
    public static void ToSafetensors(string directory, string file)
    {
        using var model = ModelArtifact.Load(directory);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [ConfigurationMetadataKey] = JsonSerializer.Serialize(model.Configuration, ConfigurationJson.Options),
        };
        if (model.Manifest.Classes is { } classes)
            metadata[ClassesMetadataKey] = JsonSerializer.Serialize(classes);
        SafetensorsFile.Write(file, ModelArtifact.StateTensors(model.Network), metadata);
    }

    /// <summary>
    /// Writes the artifact's weights as a PyTorch state dict (what <c>torch.load</c> reads), named as pytorchcv names
    /// them when the configuration has pytorchcv's layout (so pytorchcv's model loads it), as this project does otherwise.
    /// </summary>
    public static void ToPytorch(string directory, string file)
    {
        using var model = ModelArtifact.Load(directory);
        Func<string, string> name = model.Configuration.Architecture.ConvBias ? PytorchcvNames.FromProject : n => n;
        var table = new System.Collections.Hashtable();
        foreach (var (tensorName, tensor) in ModelArtifact.StateTensors(model.Network)) table[name(tensorName)] = tensor;
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
}
