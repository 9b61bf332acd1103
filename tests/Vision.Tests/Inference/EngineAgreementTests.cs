using SqueezeNext.Testing;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.Vision.Tests.Inference;

/// <summary>A model trained for a few dozen steps on six classes of coloured squares, shared by the engine tests.</summary>
[Trait("Level", "unit")]
public sealed class SquaresModel : IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public SquaresModel()
    {
        var configuration = ConfigurationFile.Parse("""
            {
              "base": "v_1_0_SqNxt_23",
              "name": "squares",
              "architecture": { "numClasses": 6, "inputSize": 64, "stageWidths": [16, 32, 32, 64], "blocksPerStage": [1, 1, 2, 1] },
              "training": { "batchSize": 12, "baseLearningRate": 0.05, "warmupSteps": 3, "warmupStartLearningRate": 0.01 }
            }
            """);
        var data = TestData.ImageFolder(temp.Sub("data"), 6, 12, size: 72);
        Directory = new Trainer(new TrainingOptions
        {
            Plan = TrainingPlan.Create(configuration, new TrainingSettings { MaxSteps = 40, PreciseBatchNormBatches = 4, CheckpointEveryMinutes = 0, Seed = 11 },
                DatasetReader.DiscoverClasses(data)),
            TrainData = data,
            OutputDirectory = temp.Sub("run"),
            LoaderThreads = 1,
        }).Run().ModelDirectory!;
    }

    public string Directory { get; }

    public void Dispose() => temp.Dispose();
}

/// <summary>
/// ONNX Runtime and TorchSharp give the same answers: the same top-5 classes in the same order, and probabilities within
/// 1e-4, for the test photos and for every image of the hostile corpus that decodes.
/// </summary>
[Trait("Level", "unit")]
public sealed class EngineAgreementTests(SquaresModel model) : IClassFixture<SquaresModel>, IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Both_engines_give_the_test_photos_the_same_top_5()
    {
        var photos = System.IO.Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures")).Where(f => !f.EndsWith(".md")).Order().ToArray();

        int compared = CompareEngines(photos.Select(File.ReadAllBytes).ToArray(), photos);

        Assert.Equal(photos.Length, compared);
    }

    [SkippableFact]
    public void Both_engines_give_every_decodable_image_of_the_hostile_corpus_the_same_top_5()
    {
        var corpus = HostileImages.DownloadGdkPixbufCorpus(temp.Sub("gdk"));
        Skip.If(corpus is null, "gdk-pixbuf-tests could not be downloaded (apt-get download gdk-pixbuf-tests failed)");
        var files = System.IO.Directory.EnumerateFiles(corpus!, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

        int compared = CompareEngines(files.Select(File.ReadAllBytes).ToArray(), files);

        Assert.InRange(compared, 20, files.Length);
    }

    /// <summary>Classifies every image that decodes with both engines and compares the answers; how many were compared.</summary>
    private int CompareEngines(byte[][] images, string[] names)
    {
        using var torch = ImageClassifier.Load(model.Directory, InferenceEngine.Torch, "cpu");
        using var onnxRuntime = ImageClassifier.Load(model.Directory, InferenceEngine.OnnxRuntime, "cpu");
        int compared = 0;
        for (int i = 0; i < images.Length; i++)
        {
            SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24> image;
            try
            {
                image = ImageDecoder.Default.Decode(images[i], names[i]);
            }
            catch (ImageDecodeException)
            {
                continue;
            }
            using (image)
            {
                var expected = torch.Classify(image);
                var actual = onnxRuntime.Classify(image);
                Assert.True(expected.Select(p => p.Index).SequenceEqual(actual.Select(p => p.Index)),
                    $"{names[i]}: torch {string.Join(", ", expected.Select(p => $"{p.Index} {p.Probability:G6}"))}; " +
                    $"onnxruntime {string.Join(", ", actual.Select(p => $"{p.Index} {p.Probability:G6}"))}");
                foreach (var (a, b) in expected.Zip(actual))
                    Assert.True(Math.Abs(a.Probability - b.Probability) <= 1e-4, $"{names[i]}, class {a.Index}: {a.Probability} against {b.Probability}");
            }
            compared++;
        }
        return compared;
    }
}
