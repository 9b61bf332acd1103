namespace SqueezeNext.Vision.Tests.Artifacts;

/// <summary>Saving, loading, importing and exporting models.</summary>
[Trait("Level", "unit")]
public sealed class ModelArtifactTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-artifact-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A trained-looking network of the configuration, saved as a model under <c>root/folder</c>.</summary>
    private (SqueezeNextNetwork Network, string Directory) Saved(string configurationName, string folder, IReadOnlyList<string>? classes = null)
    {
        var configuration = ConfigurationCatalog.Get(configurationName);
        var network = TrainedLooking(configuration);
        var directory = Path.Combine(root, folder);
        ModelArtifact.Save(directory, network, configuration, classes);
        return (network, directory);
    }

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

    [Theory]
    [InlineData("1.0-SqNxt-23", "2.0-SqNxt-23", "was made with configuration '1.0-SqNxt-23' and does not fit configuration '2.0-SqNxt-23'", "stageWidths")]
    [InlineData("v_1_0_SqNxt_23", "v_1_0_SqNxt_23_mod", "does not fit configuration 'v_1_0_SqNxt_23_mod'", "separateRelus differ")]
    public void Weights_never_load_under_a_configuration_they_were_not_made_with(string savedAs, string loadedAs, string expected, string difference)
    {
        var (network, directory) = Saved(savedAs, "model");
        using var _ = network;

        var error = Assert.Throws<ArtifactException>(() => ModelArtifact.Load(directory, ConfigurationCatalog.Get(loadedAs)));

        Assert.Contains(expected, error.Message);
        Assert.Contains(difference, error.Message);
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
        var classes = Enumerable.Range(0, 1000).Select(i => $"class {i}").ToArray();
        var (network, directory) = Saved("1.0-SqNxt-23v5", "original", classes);
        using var _ = network;
        using var expected = Logits(network);
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
        var (network, directory) = Saved("v_1_0_SqNxt_23", "m");
        using var _ = network;
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
        var (network, directory) = Saved("v_1_0_SqNxt_23", "corrupt");
        using var _ = network;
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
}
