using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Onnx;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Inference;

/// <summary>One of the most likely classes of an image.</summary>
public sealed record Prediction(int Index, string? Synset, string Name, string FullName, double Probability);

/// <summary>
/// Classifies images with a loaded model: the model's evaluation pre-processing (for the TF pipeline the crop at
/// offset 15 of the 256×256 resize, not the top-left crop of the TF port's predict.py), one forward pass per batch on
/// the chosen engine (<see cref="IForwardPass"/>), softmax, and the top k labels. Several threads may classify at once;
/// disposing must wait for them.
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    private readonly IForwardPass forwardPass;
    private readonly ImagePreprocessor preprocessor;

    /// <summary>
    /// Takes <paramref name="model"/> over. With ONNX Runtime, the graph is <paramref name="modelDirectory"/>'s cached one
    /// (<see cref="OnnxModelFile"/>), or made in memory when no directory is named; the TorchSharp network is then
    /// released, and each forward pass runs on <paramref name="threads"/> threads (default: libtorch's count on this thread).
    /// </summary>
    public ImageClassifier(LoadedModel model, Device device, InferenceEngine engine, string? modelDirectory = null, int? threads = null)
    {
        Configuration = model.Configuration;
        Engine = engine;
        preprocessor = ImagePreprocessor.For(model.Configuration);
        Labels = ClassLabels.For(model.Manifest.Classes, model.Configuration.Architecture.NumClasses);
        if (engine == InferenceEngine.Torch)
        {
            forwardPass = new TorchForwardPass(model.Network, device);
            return;
        }
        using (model)
        {
            var graph = modelDirectory is null ? OnnxExport.BuildChecked(model).Model : OnnxModelFile.For(model, modelDirectory);
            forwardPass = new OnnxRuntimeForwardPass(graph, model.Configuration.Architecture.InputSize, device, threads ?? get_num_threads());
        }
    }

    public static ImageClassifier Load(string modelDirectory, InferenceEngine engine, string device = "auto", int? threads = null)
    {
        var resolved = DeviceSelector.Resolve(device);
        var model = ModelArtifact.Load(modelDirectory);
        try
        {
            return new ImageClassifier(model, resolved, engine, modelDirectory, threads);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public SqueezeNextConfiguration Configuration { get; }

    public InferenceEngine Engine { get; }

    public ClassLabels Labels { get; }

    public ImagePreprocessor Preprocessor => preprocessor;

    public IReadOnlyList<Prediction> Classify(Image<Rgb24> image, int top = 5) => Classify([image], top)[0];

    /// <summary>Classifies the images in one forward pass.</summary>
    public IReadOnlyList<IReadOnlyList<Prediction>> Classify(IReadOnlyList<Image<Rgb24>> images, int top = 5)
    {
        if (images.Count == 0) return [];
        int values = preprocessor.ValuesPerImage;
        var input = new float[images.Count * values];
        for (int i = 0; i < images.Count; i++)
            preprocessor.Evaluate(images[i], input.AsSpan(i * values, values));
        return ClassifyPreprocessed(input, images.Count, top);
    }

    /// <summary>Classifies images already pre-processed into CHW floats, the first <paramref name="count"/> of the buffer.</summary>
    public IReadOnlyList<IReadOnlyList<Prediction>> ClassifyPreprocessed(float[] chw, int count, int top = 5)
    {
        int values = preprocessor.ValuesPerImage;
        return ClassifyPreprocessed(Enumerable.Range(0, count).Select(i => new ReadOnlyMemory<float>(chw, i * values, values)).ToArray(), top);
    }

    /// <summary>Classifies images already pre-processed into CHW floats in one forward pass, one memory block each.</summary>
    public IReadOnlyList<IReadOnlyList<Prediction>> ClassifyPreprocessed(IReadOnlyList<ReadOnlyMemory<float>> images, int top = 5)
    {
        if (images.Count == 0) return [];
        int classes = Labels.Count;
        int k = Math.Clamp(top, 1, classes);
        var logits = forwardPass.Logits(images);
        var results = new IReadOnlyList<Prediction>[images.Count];
        for (int i = 0; i < images.Count; i++)
            results[i] = TopK(logits.AsSpan(i * classes, classes), k);
        return results;
    }

    public void Dispose() => forwardPass.Dispose();

    /// <summary>The k most likely classes of one image's logits, by softmax probability.</summary>
    private Prediction[] TopK(ReadOnlySpan<float> logits, int k)
    {
        float largest = float.NegativeInfinity;
        foreach (var logit in logits) largest = Math.Max(largest, logit);
        double sum = 0;
        foreach (var logit in logits) sum += Math.Exp(logit - largest);
        var order = new int[logits.Length];
        for (int c = 0; c < order.Length; c++) order[c] = c;
        var keys = logits.ToArray();
        // Descending by logit; the sort is stable on ties through the index, as topk's order is not promised anyway.
        Array.Sort(order, (a, b) => keys[b] != keys[a] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        var predictions = new Prediction[k];
        for (int j = 0; j < k; j++)
        {
            var label = Labels[order[j]];
            predictions[j] = new Prediction(label.Index, label.Synset, label.Name, label.FullName, Math.Exp(keys[order[j]] - largest) / sum);
        }
        return predictions;
    }
}
