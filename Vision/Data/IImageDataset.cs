using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>Which part of a dataset to read.</summary>
public enum DatasetSplit
{
    Train,
    Validation,
}

/// <summary>A labelled set of images, read one at a time (safe to call from several threads).</summary>
public interface IImageDataset
{
    /// <summary>What and where, for logs and errors ("Fashion-MNIST train, 60,000 images, 10 classes, /usr/share/...").</summary>
    string Description { get; }

    int Count { get; }

    /// <summary>Class names in label order: label i is <c>Classes[i]</c>.</summary>
    IReadOnlyList<string> Classes { get; }

    int LabelOf(int index);

    /// <summary>The image at <paramref name="index"/> as RGB; a bad file throws <see cref="ImageDecodeException"/>.</summary>
    Image<Rgb24> Load(int index);

    /// <summary>The file or record the sample comes from, for messages.</summary>
    string NameOf(int index);
}

/// <summary>A dataset directory that is missing or not in an expected layout; the message names the path and what was expected.</summary>
public sealed class DatasetException(string message) : Exception(message);
