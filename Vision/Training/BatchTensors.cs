using System.Runtime.InteropServices;
using SqueezeNext.Vision.Data;
using TorchSharp;
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
}
