using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>Copies a loader batch into tensors on a device (inside the caller's dispose scope).</summary>
public static class BatchTensors
{
    public static (Tensor Images, Tensor Labels) ToTensors(Batch batch, int inputSize, Device device)
    {
        var images = empty(new long[] { batch.Count, 3, inputSize, inputSize }, ScalarType.Float32);
        MemoryMarshal.AsBytes(batch.Images).CopyTo(images.bytes);
        var labels = tensor(batch.Labels, ScalarType.Int64);
        if (device.type != DeviceType.CPU)
            return (images.to(device), labels.to(device));
        return (images, labels);
    }

    /// <summary>One N×3×S×S tensor on the CPU from N pre-processed images held apart (each 3·S·S CHW floats).</summary>
    public static Tensor FromImages(IReadOnlyList<ReadOnlyMemory<float>> chwImages, int inputSize)
    {
        int values = 3 * inputSize * inputSize;
        var images = empty(new long[] { chwImages.Count, 3, inputSize, inputSize }, ScalarType.Float32);
        var bytes = images.bytes;
        for (int i = 0; i < chwImages.Count; i++)
        {
            if (chwImages[i].Length != values) throw new ArgumentException($"image {i} has {chwImages[i].Length} values, not {values}", nameof(chwImages));
            MemoryMarshal.AsBytes(chwImages[i].Span).CopyTo(bytes[(i * values * sizeof(float))..]);
        }
        return images;
    }
}
