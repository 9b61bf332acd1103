using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Inference;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Onnx;

/// <summary>What an export wrote, and how far ONNX Runtime's logits were from TorchSharp's on its check batch.</summary>
public sealed record OnnxExportResult(string File, long Bytes, LogitComparison Check);

/// <summary>The largest absolute difference between two engines' logits, and the largest absolute logit.</summary>
public sealed record LogitComparison(double MaxDifference, double LargestLogit)
{
    /// <summary>
    /// Within <paramref name="tolerance"/>, relative to the logits' scale where they exceed 1: float32 keeps about seven
    /// digits, so an untrained network's logits in the thousands differ by more than a trained network's.
    /// </summary>
    public bool Within(double tolerance) => MaxDifference <= tolerance * Math.Max(1, LargestLogit);
}

/// <summary>
/// A SqueezeNext network as an ONNX model (opset 17): the graph is written from its <see cref="NetworkPlan"/>, every
/// convolution with its BatchNorm folded in, the batch dimension dynamic, and the configuration and class names in the
/// model's metadata (the keys of the safetensors export). Every export is run in ONNX Runtime beside TorchSharp before
/// it is written.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;

    /// <summary>ONNX IR version 8: what opset 17 came with, so that older runtimes read the file too.</summary>
    public const int IrVersion = 8;

    /// <summary>[batch, 3, size, size] float, normalised as the configuration's evaluation pre-processing leaves it.</summary>
    public const string InputName = "image";

    /// <summary>[batch, classes] float, before softmax.</summary>
    public const string OutputName = "logits";

    public const string BatchDimension = "batch";

    /// <summary>The largest absolute logit difference from TorchSharp an export may have (relative above 1: <see cref="LogitComparison.Within"/>).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Metadata key of the SHA-256 of the weights the graph was made from (<see cref="ModelManifest.WeightsSha256"/>).</summary>
    public const string WeightsChecksumMetadataKey = "sqnxt.weights_sha256";

    public static ModelProto Build(SqueezeNextNetwork network, SqueezeNextConfiguration configuration, IReadOnlyList<string>? classes = null,
        string? weightsSha256 = null)
    {
        var plan = network.Plan;
        int size = plan.Architecture.InputSize;
        var graph = new OnnxGraph(configuration.Name);
        graph.Proto.Input.Add(OnnxGraph.Float(InputName, BatchDimension, 3, size, size));
        graph.Proto.Output.Add(OnnxGraph.Float(OutputName, BatchDimension, plan.NumClasses));

        var units = network.modules().OfType<ConvBatchNorm>().ToDictionary(unit => unit.Spec.Name);
        string Unit(string input, ConvSpec spec)
        {
            var (weight, bias) = units[spec.Name].FoldedParameters();
            using (weight)
            using (bias)
            {
                var output = graph.Convolution(input, spec, weight, bias);
                return spec.Relu ? graph.Relu(output, $"{spec.Name}.relu") : output;
            }
        }

        var x = graph.MaxPool(Unit(InputName, plan.Stem), "pool", NetworkPlan.MaxPoolKernel, NetworkPlan.MaxPoolStride,
            ceil: plan.Architecture.MaxPoolRounding == PoolRounding.Ceil);
        foreach (var block in plan.Blocks)
        {
            var blockInput = block.Shortcut == ShortcutKind.ProjectionFirst ? Unit(x, block.Projection!) : x;
            var branch = new[] { block.Sq1, block.Sq2, block.SepA, block.SepB, block.Exp }.Aggregate(blockInput, Unit);
            var residual = block.Shortcut == ShortcutKind.ParallelProjection ? Unit(blockInput, block.Projection!) : blockInput;
            x = graph.Relu(graph.Add(branch, residual, $"{block.Name}.add"), block.Name);
        }
        var pooled = graph.Flatten(graph.GlobalAveragePool(Unit(x, plan.Head), "average"), "features");
        graph.Linear(pooled, OutputName, network.Classifier.weight!, network.Classifier.bias);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "sqnxt",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"SqueezeNext configuration '{configuration.Name}', BatchNorm folded into the convolutions.",
            Graph = graph.Proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto
        {
            Key = ModelExport.ConfigurationMetadataKey,
            Value = JsonSerializer.Serialize(configuration, ConfigurationJson.Options),
        });
        if (classes is not null)
            model.MetadataProps.Add(new StringStringEntryProto { Key = ModelExport.ClassesMetadataKey, Value = JsonSerializer.Serialize(classes) });
        if (!string.IsNullOrEmpty(weightsSha256))
            model.MetadataProps.Add(new StringStringEntryProto { Key = WeightsChecksumMetadataKey, Value = weightsSha256 });
        return model;
    }

    /// <summary>
    /// Exports the model in <paramref name="modelDirectory"/> to <paramref name="file"/>, after running the graph in ONNX
    /// Runtime beside TorchSharp on two images (<see cref="CheckImages"/>); a graph off by more than <see cref="Tolerance"/>
    /// is not written.
    /// </summary>
    public static OnnxExportResult Export(string modelDirectory, string file)
    {
        using var model = ModelArtifact.Load(modelDirectory);
        var (bytes, check) = BuildChecked(model);
        AtomicFile.Write(file, stream => stream.Write(bytes));
        return new OnnxExportResult(file, bytes.LongLength, check);
    }

    /// <summary>
    /// The model's ONNX graph, serialised, after running it in ONNX Runtime beside TorchSharp on two images
    /// (<see cref="CheckImages"/>); a graph off by more than <see cref="Tolerance"/> is refused.
    /// </summary>
    public static (byte[] Model, LogitComparison Check) BuildChecked(LoadedModel model)
    {
        var bytes = Build(model.Network, model.Configuration, model.Manifest.Classes, model.Manifest.WeightsSha256).ToByteArray();
        var check = CompareLogits(model.Network, bytes, CheckImages(model.Configuration, count: 2, seed: 1));
        if (!check.Within(Tolerance))
            throw new ArtifactException(
                $"the ONNX graph's logits differ from TorchSharp's by {check.MaxDifference:G3} (largest logit {check.LargestLogit:G3}), more than {Tolerance:G1} allows");
        return (bytes, check);
    }

    /// <summary>
    /// Runs <paramref name="images"/> (CHW floats, one image after another) through the network (evaluation mode, on its
    /// device) and through <paramref name="onnxModel"/> in ONNX Runtime, and compares their logits.
    /// </summary>
    public static LogitComparison CompareLogits(SqueezeNextNetwork network, byte[] onnxModel, float[] images)
    {
        int size = network.Architecture.InputSize;
        long[] shape = [images.Length / (3 * size * size), 3, size, size];

        float[] expected;
        using (no_grad())
        using (NewDisposeScope())
        {
            bool training = network.training;
            network.eval();
            var input = tensor(images, shape).to(network.Classifier.weight!.device);
            expected = network.forward(input).cpu().data<float>().ToArray();
            if (training) network.train();
        }

        int values = 3 * size * size;
        using var onnxRuntime = new OnnxRuntimeForwardPass(onnxModel, size, CPU, get_num_threads());
        var actual = onnxRuntime.Logits(Enumerable.Range(0, (int)shape[0]).Select(i => new ReadOnlyMemory<float>(images, i * values, values)).ToArray());
        if (actual.Length != expected.Length)
            throw new ArtifactException($"the ONNX graph gives {actual.Length} logits for {shape[0]} images, TorchSharp {expected.Length}");
        double difference = 0, largest = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(actual[i] - expected[i]));
            largest = Math.Max(largest, Math.Abs(expected[i]));
        }
        return new LogitComparison(difference, largest);
    }

    /// <summary>
    /// <paramref name="count"/> images of random pixels, pre-processed as <paramref name="configuration"/> evaluates (CHW
    /// floats, one image after another): the range of activations a trained network of the configuration works in.
    /// </summary>
    public static float[] CheckImages(SqueezeNextConfiguration configuration, int count, int seed)
    {
        var preprocessor = ImagePreprocessor.For(configuration);
        int size = preprocessor.InputSize, values = preprocessor.ValuesPerImage;
        var images = new float[count * values];
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            using var image = new Image<Rgb24>(size, size);
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                    random.NextBytes(MemoryMarshal.AsBytes(rows.GetRowSpan(y)));
            });
            preprocessor.Evaluate(image, images.AsSpan(i * values, values));
        }
        return images;
    }
}
