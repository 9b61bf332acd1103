using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Inference;

/// <summary>One of the most likely classes of an image.</summary>
public sealed record Prediction(int Index, string? Synset, string Name, string FullName, double Probability);

/// <summary>
/// Classifies images with a loaded model: the model's evaluation pre-processing (for the TF pipeline the crop at
/// offset 15 of the 256×256 resize, not the top-left crop of the TF port's predict.py), one forward pass per batch
/// without gradients, softmax, and the top k labels. Several threads may classify at once (a forward pass in eval mode
/// only reads the network); disposing must wait for them.
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    private readonly LoadedModel model;
    private readonly Device device;
    private readonly ImagePreprocessor preprocessor;

    public ImageClassifier(LoadedModel model, Device device)
    {
        this.model = model;
        this.device = device;
        preprocessor = ImagePreprocessor.For(model.Configuration);
        Labels = ClassLabels.For(model.Manifest.Classes, model.Configuration.Architecture.NumClasses);
        model.Network.to(device);
        model.Network.eval();
        model.Network.FoldBatchNorm();
    }

    public static ImageClassifier Load(string modelDirectory, string device = "auto")
    {
        var resolved = DeviceSelector.Resolve(device);
        var model = ModelArtifact.Load(modelDirectory);
        try
        {
            return new ImageClassifier(model, resolved);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public LoadedModel Model => model;

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
        int count = images.Count;
        if (count == 0) return [];
        int k = Math.Clamp(top, 1, Labels.Count);
        int size = model.Configuration.Architecture.InputSize;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var input = BatchTensors.FromImages(images, size);
        var probabilities = nn.functional.softmax(model.Network.forward(input.to(device)), 1);
        var (probabilityValues, indexes) = probabilities.topk(k, dim: 1);
        var p = probabilityValues.cpu().data<float>().ToArray();
        var ix = indexes.cpu().data<long>().ToArray();
        var results = new IReadOnlyList<Prediction>[count];
        for (int i = 0; i < count; i++)
        {
            results[i] = Enumerable.Range(0, k).Select(j =>
            {
                var label = Labels[(int)ix[i * k + j]];
                return new Prediction(label.Index, label.Synset, label.Name, label.FullName, p[i * k + j]);
            }).ToArray();
        }
        return results;
    }

    public void Dispose() => model.Dispose();
}
