using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using SqueezeNext.Vision.Onnx;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.Vision.Tests.Onnx;

/// <summary>
/// The ONNX export: every named configuration and a trained model of a user's own configuration, run in ONNX Runtime
/// beside TorchSharp; the graph's interface and metadata; and what a failed export leaves behind.
/// </summary>
[Trait("Level", "unit")]
public sealed class OnnxExportTests : IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public void Dispose() => temp.Dispose();

    public static TheoryData<string> NamedConfigurations() => new(ConfigurationCatalog.Names);

    [Theory]
    [MemberData(nameof(NamedConfigurations))]
    public void Every_named_configuration_exports_to_a_graph_whose_logits_equal_TorchSharps(string name)
    {
        var configuration = ConfigurationCatalog.Get(name);
        using var network = new SqueezeNextNetwork(configuration.Architecture, seed: 5);
        RandomiseBatchNorm(network, seed: 6);
        int size = configuration.Architecture.InputSize;
        // Standard normal images: with statistics that are not the data's, BatchNorm does not keep pixel-range input in
        // range, and the logits grow until float32 rounding alone exceeds the tolerance.
        using var generator = new Generator(7);
        using var images = randn([2, 3, size, size], generator: generator);

        var model = OnnxExport.Build(network, configuration);

        var check = OnnxExport.CompareLogits(network, model.ToByteArray(), images.data<float>().ToArray());
        Assert.InRange(check.MaxDifference, 0, OnnxExport.Tolerance);
        // Every convolution is one Conv node: BatchNorm is folded, not exported as its own operator.
        Assert.Equal(network.Plan.Convolutions().Count(), model.Graph.Node.Count(node => node.OpType == "Conv"));
        Assert.DoesNotContain(model.Graph.Node, node => node.OpType == "BatchNormalization");
    }

    [Fact]
    public void A_trained_model_of_a_users_own_configuration_exports_with_its_configuration_and_classes_and_any_batch_size()
    {
        var configuration = ConfigurationFile.Parse("""
            {
              "base": "v_1_0_SqNxt_23_mod",
              "name": "my-squares",
              "architecture": { "numClasses": 3, "inputSize": 32, "stageWidths": [16, 32, 32, 64], "blocksPerStage": [1, 1, 1, 1] },
              "training": { "batchSize": 6, "baseLearningRate": 0.05, "warmupSteps": 2, "warmupStartLearningRate": 0.01 }
            }
            """);
        string[] classes = ["blue", "green", "red"];
        var data = TestData.ImageFolder(temp.Sub("data"), 3, 8, size: 36, names: classes);
        var trained = new Trainer(new TrainingOptions
        {
            Plan = TrainingPlan.Create(configuration, new TrainingSettings { MaxSteps = 25, PreciseBatchNormBatches = 4, CheckpointEveryMinutes = 0, Seed = 3 }, DatasetReader.DiscoverClasses(data)),
            TrainData = data,
            OutputDirectory = temp.Sub("run"),
            LoaderThreads = 1,
        }).Run();
        var file = Path.Combine(temp.Path, "exported", "my-squares.onnx");

        var result = OnnxExport.Export(trained.ModelDirectory!, file);

        Assert.InRange(result.Check.MaxDifference, 0, OnnxExport.Tolerance);
        Assert.Equal(new FileInfo(file).Length, result.Bytes);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
        var metadata = model.MetadataProps.ToDictionary(entry => entry.Key, entry => entry.Value);
        Assert.Equal(classes, JsonSerializer.Deserialize<string[]>(metadata[ModelExport.ClassesMetadataKey]));
        var saved = JsonSerializer.Deserialize<SqueezeNextConfiguration>(metadata[ModelExport.ConfigurationMetadataKey], ConfigurationJson.Options)!;
        Assert.Equal("my-squares", saved.Name);
        Assert.Empty(saved.Architecture.Differences(configuration.Architecture));

        using var loaded = ModelArtifact.Load(trained.ModelDirectory!);
        using var session = new InferenceSession(file);
        Assert.Equal([-1, 3, 32, 32], session.InputMetadata[OnnxExport.InputName].Dimensions);
        Assert.Equal(OnnxExport.BatchDimension, session.InputMetadata[OnnxExport.InputName].SymbolicDimensions[0]);
        foreach (int batch in new[] { 1, 5 })
            Assert.InRange(OnnxExport.CompareLogits(loaded.Network, File.ReadAllBytes(file), OnnxExport.CheckImages(loaded.Configuration, batch, seed: batch)).MaxDifference, 0, OnnxExport.Tolerance);
    }

    [Fact]
    public void Exporting_a_folder_that_is_not_a_model_names_it_and_writes_nothing()
    {
        var file = Path.Combine(temp.Path, "out.onnx");

        var error = Assert.Throws<ArtifactException>(() => OnnxExport.Export(Directory.CreateDirectory(temp.Sub("empty")).FullName, file));

        Assert.Contains("has no model.json", error.Message);
        Assert.False(File.Exists(file));
    }

    /// <summary>Running statistics and affine parameters away from their initial 0 and 1, so that the fold is really tested.</summary>
    private static void RandomiseBatchNorm(SqueezeNextNetwork network, ulong seed)
    {
        using var noGrad = no_grad();
        using var generator = new Generator(seed);
        foreach (var unit in network.modules().OfType<ConvBatchNorm>())
        {
            var bn = unit.BatchNorm;
            bn.running_mean!.normal_(0, 0.2, generator);
            bn.running_var!.uniform_(0.5, 1.5, generator);
            bn.weight!.uniform_(0.5, 1.5, generator);
            bn.bias!.normal_(0, 0.2, generator);
            unit.Convolution.bias?.normal_(0, 0.1, generator);
        }
        network.Classifier.bias?.normal_(0, 0.1, generator);
    }
}
