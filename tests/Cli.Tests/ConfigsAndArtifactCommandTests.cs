using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;
using System.Text.Json;

namespace SqueezeNext.Cli.Tests;

[Trait("Level", "processes")]
public sealed class ConfigsAndArtifactCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A freshly initialised model of the configuration, saved under <c>root/folder</c>.</summary>
    private string SavedModel(SqueezeNextConfiguration configuration, string folder, int seed)
    {
        var directory = Path.Combine(root, folder);
        using var network = new SqueezeNextNetwork(configuration.Architecture, seed: seed);
        ModelArtifact.Save(directory, network, configuration);
        return directory;
    }

    [Fact]
    public void Configs_lists_every_named_configuration_with_its_key_figures()
    {
        var result = Sqnxt.Run("configs");

        Assert.Equal(0, result.ExitCode);
        foreach (var name in new[] { "v_1_0_SqNxt_23", "v_1_0_SqNxt_23_mod", "v_1_0_G_SqNxt_23", "v_1_0_SqNxt_23_v5",
                     "v_2_0_SqNxt_23", "v_2_0_SqNxt_23_v5", "1.0-SqNxt-23", "1.0-G-SqNxt-23", "1.0-SqNxt-23v5",
                     "2.0-SqNxt-23", "2.0-SqNxt-23v5", "2.0-SqNxt-44", "1.5-SqNxt-23" })
            Assert.Contains(name, result.Output);
        Assert.Contains("717,280", result.Output);
        Assert.Contains("278.00", result.Output);
    }

    [Fact]
    public void Configs_json_is_complete_enough_to_be_used_as_a_configuration_file()
    {
        var result = Sqnxt.Run("configs", "--json");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        var first = json.RootElement.EnumerateArray().First(c => c.GetProperty("name").GetString() == "v_1_0_G_SqNxt_23");
        Assert.Equal(543_072, first.GetProperty("parameters").GetInt64());

        var file = Path.Combine(root, "copy.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new
        {
            name = "copied",
            architecture = first.GetProperty("architecture"),
            training = first.GetProperty("training"),
        }));
        var summary = Sqnxt.Run("summary", "--config", file, "--json");
        Assert.Equal(0, summary.ExitCode);
        using var summaryJson = JsonDocument.Parse(summary.Output);
        Assert.Equal(543_072, summaryJson.RootElement.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Export_then_import_through_the_command_line_gives_the_same_weights()
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23_mod");
        var original = SavedModel(configuration, "original", seed: 41);
        var file = Path.Combine(root, "exported.safetensors");

        var export = Sqnxt.Run("export", "--model", original, "--out", file);
        var import = Sqnxt.Run("import", file, "--format", "safetensors", "--out", Path.Combine(root, "imported"));

        Assert.Equal(0, export.ExitCode);
        Assert.Equal(0, import.ExitCode);
        Assert.Contains("imported v_1_0_SqNxt_23_mod", import.Output);
        using var a = ModelArtifact.Load(original);
        using var b = ModelArtifact.Load(Path.Combine(root, "imported"), configuration);
        var stateA = a.Network.state_dict();
        Assert.All(b.Network.state_dict(), pair => Assert.True(pair.Value.eq(stateA[pair.Key]).all().item<bool>(), pair.Key));
    }

    [Fact]
    public void Export_to_onnx_writes_a_model_that_onnx_runtime_runs_for_any_batch_size()
    {
        var configuration = ConfigurationCatalog.Get("sqnxt23v5_w1");
        var original = SavedModel(configuration, "pytorchcv-layout", seed: 43);
        var file = Path.Combine(root, "exported.onnx");

        var export = Sqnxt.Run("export", "--model", original, "--out", file);

        Assert.True(export.ExitCode == 0, export.Error);
        Assert.Matches(@"^wrote .*exported\.onnx \([\d,]+ bytes; ONNX Runtime's logits within [\d.E-]+ of TorchSharp's\)", export.Output);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(file);
        Assert.Equal([-1, 3, 224, 224], session.InputMetadata["image"].Dimensions);
        Assert.Equal([-1, 1000], session.OutputMetadata["logits"].Dimensions);
    }

    [Fact]
    public void Import_under_the_wrong_configuration_fails_naming_the_difference()
    {
        var configuration = ConfigurationCatalog.Get("1.0-SqNxt-23");
        var original = SavedModel(configuration, "v1", seed: 42);
        var file = Path.Combine(root, "v1.safetensors");
        Assert.Equal(0, Sqnxt.Run("export", "--model", original, "--out", file).ExitCode);

        var import = Sqnxt.Run("import", file, "--config", "2.0-SqNxt-23", "--out", Path.Combine(root, "v2"));

        Assert.Equal(1, import.ExitCode);
        Assert.Contains("does not fit configuration '2.0-SqNxt-23'", import.Error);
        Assert.False(Directory.Exists(Path.Combine(root, "v2")));
    }

    [Fact]
    public void Export_and_import_refuse_a_directory_that_is_not_a_model()
    {
        foreach (var file in new[] { "x.safetensors", "x.onnx" })
        {
            var export = Sqnxt.Run("export", "--model", root, "--out", Path.Combine(root, file));
            Assert.Equal(1, export.ExitCode);
            Assert.Contains("is not a model directory", export.Error);
            Assert.False(File.Exists(Path.Combine(root, file)));
        }

        var import = Sqnxt.Run("import", Path.Combine(root, "missing.safetensors"), "--out", Path.Combine(root, "m"));
        Assert.Equal(1, import.ExitCode);
        Assert.Contains("does not exist", import.Error);

        var garbage = Path.Combine(root, "garbage.safetensors");
        File.WriteAllText(garbage, "this is not a weights file at all");
        var corrupt = Sqnxt.Run("import", garbage, "--config", "v_1_0_SqNxt_23", "--out", Path.Combine(root, "m"));
        Assert.Equal(1, corrupt.ExitCode);
        Assert.Contains("is not a safetensors file", corrupt.Error);
        Assert.False(Directory.Exists(Path.Combine(root, "m")));
    }
}
