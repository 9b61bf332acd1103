using System.Collections;
using TorchSharp.PyBridge;

namespace SqueezeNext.Vision.Tests.Pytorchcv;

/// <summary>
/// The import of pytorchcv's state dicts, proven against an independent PyTorch implementation of the layout: the
/// imported network must give PyTorch's logits for the same inputs.
/// </summary>
[Trait("Level", "unit")]
public sealed class PytorchcvImportTests(PytorchReference reference, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PytorchReference>, IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public static TheoryData<string> Configurations => new(ConfigurationCatalog.PytorchcvNames);

    [Theory]
    [InlineData("sqnxt23_w1", 724_056)]
    [InlineData("sqnxt23_w3d2", 1_511_824)]
    [InlineData("sqnxt23_w2", 2_583_752)]
    [InlineData("sqnxt23v5_w1", 921_816)]
    [InlineData("sqnxt23v5_w3d2", 1_953_616)]
    [InlineData("sqnxt23v5_w2", 3_366_344)]
    public void The_pytorchcv_configurations_have_pytorchcvs_published_parameter_counts(string name, long parameters)
    {
        var configuration = ConfigurationCatalog.Get(name);

        Assert.Equal(parameters, NetworkPlan.For(configuration.Architecture).TrainableParameters);
        Assert.Equal(224, configuration.Architecture.InputSize);
        Assert.Equal(PreprocessingKind.Torchvision, configuration.Training.Preprocessing);
    }

    [SkippableTheory]
    [MemberData(nameof(Configurations))]
    public async Task An_imported_state_dict_reproduces_pytorchs_logits(string name)
    {
        Skip.If(reference.Unavailable is not null, reference.Unavailable);
        var folder = await reference.ForAsync(name);
        var target = temp.Sub(name);

        var manifest = ModelImport.FromFile(Path.Combine(folder, $"{name}.pth"), WeightsFormat.Pytorch, ConfigurationCatalog.Get(name), target);

        Assert.Equal(PreprocessingKind.Torchvision, manifest.Configuration.Training.Preprocessing);
        using var model = ModelArtifact.Load(target);
        var io = PyTorchUnpickler.UnpickleStateDict(Path.Combine(folder, $"{name}.io.pth"));
        using var inputs = (Tensor)io["inputs"]!;
        using var expected = (Tensor)io["logits"]!;
        model.Network.eval();
        using var noGrad = no_grad();
        using var actual = model.Network.forward(inputs);
        double relative = (actual - expected).abs().max().ToDouble() / expected.abs().max().ToDouble();
        output.WriteLine($"{name}: largest logit difference {relative:E2} of the largest logit");
        Assert.True(relative < 1e-4, $"{name}: logits differ from PyTorch's by {relative:E2} of their largest magnitude");
        // The logits depend on the image: a check that could not tell inputs apart would prove little.
        Assert.True((expected[0] - expected[1]).abs().max().ToDouble() > 0.01);
    }

    [SkippableFact]
    public async Task A_renamed_missing_or_misshapen_tensor_is_named_and_nothing_is_written()
    {
        Skip.If(reference.Unavailable is not null, reference.Unavailable);
        var folder = await reference.ForAsync("sqnxt23_w1");
        var configuration = ConfigurationCatalog.Get("sqnxt23_w1");

        string Rejected(string variant, Action<Hashtable> change)
        {
            var state = PyTorchUnpickler.UnpickleStateDict(Path.Combine(folder, "sqnxt23_w1.pth"));
            change(state);
            var file = temp.Sub($"{variant}.pth");
            PyTorchPickler.PickleStateDict(file, state);
            var target = temp.Sub(variant);
            var error = Assert.Throws<ArtifactException>(() => ModelImport.FromFile(file, WeightsFormat.Pytorch, configuration, target));
            Assert.False(Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any(), $"{variant}: something was written");
            return error.Message;
        }

        var renamed = Rejected("renamed", state =>
        {
            state["features.stage2.unit1.conv3.conv.wieght"] = state["features.stage2.unit1.conv3.conv.weight"];
            state.Remove("features.stage2.unit1.conv3.conv.weight");
        });
        var missing = Rejected("missing", state => state.Remove("output.bias"));
        var misshapen = Rejected("misshapen", state => state["features.final_block.bn.running_var"] = ones(64));

        Assert.Contains("missing tensor 'features.stage2.unit1.conv3.conv.weight' [32, 16, 1, 3]", renamed);
        Assert.Contains("unexpected tensor 'features.stage2.unit1.conv3.conv.wieght'", renamed);
        Assert.Contains("missing tensor 'output.bias' [1000]", missing);
        Assert.Contains("tensor 'features.final_block.bn.running_var' is [64] in the file but the configuration needs [128]", misshapen);
    }

    [SkippableFact]
    public async Task A_safetensors_file_with_pytorchcv_names_imports_like_the_state_dict()
    {
        Skip.If(reference.Unavailable is not null, reference.Unavailable);
        var folder = await reference.ForAsync("sqnxt23v5_w1");
        var configuration = ConfigurationCatalog.Get("sqnxt23v5_w1");
        var tensors = PytorchStateDict.Read(Path.Combine(folder, "sqnxt23v5_w1.pth"));
        var safetensors = temp.Sub("sqnxt23v5_w1.safetensors");
        SafetensorsFile.Write(safetensors, tensors);

        ModelImport.FromFile(safetensors, WeightsFormat.Safetensors, configuration, temp.Sub("from-safetensors"));
        ModelImport.FromFile(Path.Combine(folder, "sqnxt23v5_w1.pth"), WeightsFormat.Pytorch, configuration, temp.Sub("from-pth"));

        using var a = ModelArtifact.Load(temp.Sub("from-safetensors"));
        using var b = ModelArtifact.Load(temp.Sub("from-pth"));
        foreach (var ((name, x), (_, y)) in ModelArtifact.StateTensors(a.Network).Zip(ModelArtifact.StateTensors(b.Network)))
            Assert.True(x.allclose(y, rtol: 0, atol: 0), name);
        foreach (var (_, tensor) in tensors) tensor.Dispose();
    }

    [Fact]
    public void Pytorchcv_names_map_to_this_projects_names_and_back()
    {
        using var network = new SqueezeNextNetwork(ConfigurationCatalog.Get("sqnxt23_w1").Architecture);
        var names = network.state_dict().Keys.ToList();
        var pytorchcv = names.Select(PytorchcvNames.FromProject).ToList();

        Assert.All(pytorchcv, name => Assert.Matches(@"^(features\.|output\.)", name));
        Assert.Equal(names, pytorchcv.Select(PytorchcvNames.ToProject));
        Assert.Contains("features.stage2.unit1.identity_conv.bn.running_mean", pytorchcv);
        Assert.Contains("features.init_block.conv.conv.bias", pytorchcv);
        Assert.Contains("output.bias", pytorchcv);
        Assert.Equal("stage3.block2.sepB.conv.weight", PytorchcvNames.ToProject("features.stage3.unit2.conv4.conv.weight"));
    }

    [Fact]
    public void A_state_dict_that_is_not_one_is_refused_with_a_reason()
    {
        var file = temp.Sub("noise.pth");
        File.WriteAllBytes(file, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 37))]);

        var error = Assert.Throws<ArtifactException>(() => ModelImport.FromFile(file, WeightsFormat.Pytorch, ConfigurationCatalog.Get("sqnxt23_w1"), temp.Sub("noise")));

        Assert.Contains("is not a PyTorch state dict that can be read", error.Message);
    }

    public void Dispose() => temp.Dispose();
}
