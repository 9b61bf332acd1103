using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Tests.Artifacts;

/// <summary>
/// Saving, loading, importing and exporting models. Over 200 lines as one set of round trips on the same small
/// network and temporary folder.
/// </summary>
public sealed class ModelArtifactTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-artifact-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static SqueezeNextNetwork TrainedLooking(SqueezeNextConfiguration configuration)
    {
        // Non-trivial BN statistics, so a loader that skipped buffers would be caught.
        var network = new SqueezeNextNetwork(configuration.Architecture, seed: 31);
        network.train();
        using (no_grad())
        {
            using var batch = randn(4, 3, 64, 64, generator: new Generator(32));
            network.forward(batch).Dispose();
        }
        network.eval();
        return network;
    }

    private static Tensor Logits(SqueezeNextNetwork network)
    {
        network.eval();
        using var noGrad = no_grad();
        using var input = randn(2, 3, 227, 227, generator: new Generator(33));
        return network.forward(input);
    }

    [Fact]
    public void Save_then_load_reproduces_the_logits_bit_for_bit()
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        using var network = TrainedLooking(configuration);
        using var expected = Logits(network);
        var directory = Path.Combine(root, "model");

        ModelArtifact.Save(directory, network, configuration, origin: "test");
        using var loaded = ModelArtifact.Load(directory);
        using var actual = Logits(loaded.Network);

        Assert.True(actual.eq(expected).all().item<bool>());
        Assert.Equal("v_1_0_SqNxt_23", loaded.Configuration.Name);
        Assert.Equal(717_280, loaded.Manifest.TrainableParameters);
        Assert.True(File.Exists(Path.Combine(directory, "model.json")));
        Assert.Empty(Directory.GetFiles(directory, "*.tmp"));
    }

    [Fact]
    public void Loading_1_0_weights_under_a_2_0_configuration_fails_with_a_clear_message()
    {
        var configuration = ConfigurationCatalog.Get("1.0-SqNxt-23");
        using var network = TrainedLooking(configuration);
        var directory = Path.Combine(root, "v1");
        ModelArtifact.Save(directory, network, configuration);

        var error = Assert.Throws<ArtifactException>(() => ModelArtifact.Load(directory, ConfigurationCatalog.Get("2.0-SqNxt-23")));

        Assert.Contains("was made with configuration '1.0-SqNxt-23' and does not fit configuration '2.0-SqNxt-23'", error.Message);
        Assert.Contains("stageWidths", error.Message);
    }

    [Fact]
    public void Weights_never_load_silently_under_the_other_relu_layout()
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        using var network = TrainedLooking(configuration);
        var directory = Path.Combine(root, "separate");
        ModelArtifact.Save(directory, network, configuration);

        var error = Assert.Throws<ArtifactException>(() => ModelArtifact.Load(directory, ConfigurationCatalog.Get("v_1_0_SqNxt_23_mod")));

        Assert.Contains("separateRelus differ", error.Message);
    }

    [Fact]
    public void Raw_weights_of_the_wrong_width_are_rejected_naming_the_tensors()
    {
        using var small = new SqueezeNextNetwork(ConfigurationCatalog.Get("v_1_0_SqNxt_23").Architecture);
        using var wide = new SqueezeNextNetwork(ConfigurationCatalog.Get("v_2_0_SqNxt_23").Architecture);

        var error = Assert.Throws<ArtifactException>(() =>
            ModelArtifact.LoadWeights(wide, ModelArtifact.StateTensors(small), "the test file", "v_2_0_SqNxt_23"));

        Assert.Contains("do not fit configuration 'v_2_0_SqNxt_23'", error.Message);
        Assert.Contains("tensor 'stage1.block1.sq1.conv.weight' is [16, 64, 1, 1] in the file but the configuration needs [32, 64, 1, 1]", error.Message);
    }

    [Fact]
    public void Missing_and_unexpected_tensors_are_named()
    {
        var architecture = ConfigurationCatalog.Get("v_1_0_SqNxt_23").Architecture;
        using var network = new SqueezeNextNetwork(architecture);
        var tensors = ModelArtifact.StateTensors(network)
            .Where(t => t.Name != "head.bn.running_var")
            .Append(("head.extra.weight", zeros(3)))
            .ToList();

        var error = Assert.Throws<ArtifactException>(() => ModelArtifact.LoadWeights(network, tensors, "the test file", "v_1_0_SqNxt_23"));

        Assert.Contains("missing tensor 'head.bn.running_var' [128]", error.Message);
        Assert.Contains("unexpected tensor 'head.extra.weight' [3]", error.Message);
    }

    [Fact]
    public void Safetensors_export_then_import_reproduces_the_logits()
    {
        var configuration = ConfigurationCatalog.Get("1.0-SqNxt-23v5");
        using var network = TrainedLooking(configuration);
        using var expected = Logits(network);
        var directory = Path.Combine(root, "original");
        var classes = Enumerable.Range(0, 1000).Select(i => $"class {i}").ToArray();
        ModelArtifact.Save(directory, network, configuration, classes);
        var file = Path.Combine(root, "exported.safetensors");

        ModelExport.ToSafetensors(directory, file);
        var imported = Path.Combine(root, "imported");
        ModelImport.FromFile(file, WeightsFormat.Safetensors, configuration: null, imported);
        using var loaded = ModelArtifact.Load(imported);
        using var actual = Logits(loaded.Network);

        Assert.True(actual.eq(expected).all().item<bool>());
        Assert.Equal("1.0-SqNxt-23v5", loaded.Configuration.Name);
        Assert.Equal(classes, loaded.Manifest.Classes);
    }

    [Fact]
    public void Import_refuses_a_configuration_that_contradicts_the_file_and_writes_nothing()
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        using var network = TrainedLooking(configuration);
        var directory = Path.Combine(root, "m");
        ModelArtifact.Save(directory, network, configuration);
        var file = Path.Combine(root, "m.safetensors");
        ModelExport.ToSafetensors(directory, file);
        var target = Path.Combine(root, "wrong");

        var error = Assert.Throws<ArtifactException>(() => ModelImport.FromFile(file, WeightsFormat.Safetensors, ConfigurationCatalog.Get("v_1_0_G_SqNxt_23"), target));

        Assert.Contains("groups differ", error.Message);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void A_safetensors_file_without_metadata_imports_under_a_named_configuration_and_checks_every_shape()
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        using var network = TrainedLooking(configuration);
        var file = Path.Combine(root, "bare.safetensors");
        SafetensorsFile.Write(file, ModelArtifact.StateTensors(network));

        var noConfig = Assert.Throws<ArtifactException>(() => ModelImport.FromFile(file, WeightsFormat.Safetensors, null, Path.Combine(root, "a")));
        Assert.Contains("carries no configuration", noConfig.Message);

        var wrongWidth = Assert.Throws<ArtifactException>(() => ModelImport.FromFile(file, WeightsFormat.Safetensors, ConfigurationCatalog.Get("2.0-SqNxt-23"), Path.Combine(root, "b")));
        Assert.Contains("do not fit configuration '2.0-SqNxt-23'", wrongWidth.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "b")));

        ModelImport.FromFile(file, WeightsFormat.Safetensors, configuration, Path.Combine(root, "c"));
        using var loaded = ModelArtifact.Load(Path.Combine(root, "c"));
        using var expected = Logits(network);
        using var actual = Logits(loaded.Network);
        Assert.True(actual.eq(expected).all().item<bool>());
    }

    [Fact]
    public void A_corrupted_weights_file_is_detected_by_its_checksum()
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        using var network = TrainedLooking(configuration);
        var directory = Path.Combine(root, "corrupt");
        ModelArtifact.Save(directory, network, configuration);
        var weights = Path.Combine(directory, ModelArtifact.WeightsFileName);
        var bytes = File.ReadAllBytes(weights);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<ArtifactException>(() => ModelArtifact.Load(directory));

        Assert.Contains("does not match the checksum", error.Message);
    }

    [Fact]
    public void A_directory_that_is_not_an_artifact_is_named_as_such()
    {
        var missing = Assert.Throws<ArtifactException>(() => ModelArtifact.Load(Path.Combine(root, "nothing")));
        Assert.Contains("does not exist", missing.Message);

        var empty = Directory.CreateDirectory(Path.Combine(root, "empty")).FullName;
        var notModel = Assert.Throws<ArtifactException>(() => ModelArtifact.Load(empty));
        Assert.Contains("is not a model directory: it has no model.json", notModel.Message);
    }

    [Theory]
    [InlineData(new byte[0], "shorter than its 8-byte header length")]
    [InlineData(new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, (byte)'{' }, "does not fit the file")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'[', (byte)'x' }, "header is not valid JSON")]
    public void Malformed_safetensors_files_are_rejected(byte[] content, string expected)
    {
        var file = Path.Combine(root, "bad.safetensors");
        File.WriteAllBytes(file, content);

        var error = Assert.Throws<ArtifactException>(() => SafetensorsFile.Read(file));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_truncated_safetensors_file_is_rejected_naming_the_tensor()
    {
        var file = Path.Combine(root, "truncated.safetensors");
        using (var weights = ones(100))
            SafetensorsFile.Write(file, [("w", weights)]);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^40]);

        var error = Assert.Throws<ArtifactException>(() => SafetensorsFile.Read(file));

        Assert.Contains("tensor 'w'", error.Message);
        Assert.Contains("truncated or corrupt", error.Message);
    }

    [Fact]
    public void Safetensors_header_follows_the_format_so_other_readers_accept_it()
    {
        var file = Path.Combine(root, "format.safetensors");
        using (var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3))
        using (var b = tensor(new long[] { 7 }))
            SafetensorsFile.Write(file, [("a", a), ("b", b)], new Dictionary<string, string> { ["k"] = "v" });

        var bytes = File.ReadAllBytes(file);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!;

        Assert.Equal(0, (8 + headerLength) % 8);
        Assert.Equal("F32", (string?)header["a"]!["dtype"]);
        Assert.Equal("[2,3]", header["a"]!["shape"]!.ToJsonString());
        Assert.Equal("[0,24]", header["a"]!["data_offsets"]!.ToJsonString());
        Assert.Equal("I64", (string?)header["b"]!["dtype"]);
        Assert.Equal("[24,32]", header["b"]!["data_offsets"]!.ToJsonString());
        Assert.Equal("v", (string?)header["__metadata__"]!["k"]);
        Assert.Equal(8 + headerLength + 32, bytes.Length);
        Assert.Equal(5f, BitConverter.ToSingle(bytes, (int)(8 + headerLength + 20)));
    }
}
