using Microsoft.ML.OnnxRuntime;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Inference;

/// <summary>
/// A classifier's forward pass: pre-processed images (CHW floats, one memory block each) in, their logits out
/// ([images × classes], row by row). Passes may run on several threads at once.
/// </summary>
public interface IForwardPass : IDisposable
{
    float[] Logits(IReadOnlyList<ReadOnlyMemory<float>> images);
}

/// <summary>TorchSharp: the network in evaluation mode with its BatchNorms folded, on its device, without gradients.</summary>
public sealed class TorchForwardPass : IForwardPass
{
    private readonly SqueezeNextNetwork network;
    private readonly Device device;

    /// <summary>Takes <paramref name="network"/> over: it is moved to <paramref name="device"/> and disposed with this pass.</summary>
    public TorchForwardPass(SqueezeNextNetwork network, Device device)
    {
        this.network = network;
        this.device = device;
        network.to(device);
        network.eval();
        network.FoldBatchNorm();
    }

    public float[] Logits(IReadOnlyList<ReadOnlyMemory<float>> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var input = BatchTensors.FromImages(images, network.Architecture.InputSize);
        return network.forward(input.to(device)).cpu().data<float>().ToArray();
    }

    public void Dispose() => network.Dispose();
}

/// <summary>
/// ONNX Runtime on a serialised ONNX graph. A pass on one thread runs on its caller's thread; with more, ONNX Runtime
/// keeps a pool of its own for the session.
/// </summary>
public sealed class OnnxRuntimeForwardPass : IForwardPass
{
    private static int liveSessions;
    private readonly InferenceSession session;
    private readonly int imageSize;
    private readonly bool profiling;
    private int disposed;

    /// <summary>ONNX Runtime sessions open in this process: each holds a copy of its model's weights, so a leak shows here first.</summary>
    public static int LiveSessions => Volatile.Read(ref liveSessions);

    /// <param name="tune">Changes to the session's settings, for benchmarks (<c>sqnxt bench --ort-optimization</c>, <c>--ort-config</c>).</param>
    public OnnxRuntimeForwardPass(byte[] onnxModel, int inputSize, Device device, int threads, Action<SessionOptions>? tune = null)
    {
        imageSize = inputSize;
        _ = Onnx.OnnxRuntimeEnvironment.Ready;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
        };
        tune?.Invoke(options);
        profiling = options.EnableProfiling;
        if (device.type == DeviceType.CUDA) options.AppendExecutionProvider_CUDA(device.index < 0 ? 0 : device.index);
        session = new InferenceSession(onnxModel, options);
        Interlocked.Increment(ref liveSessions);
    }

    public float[] Logits(IReadOnlyList<ReadOnlyMemory<float>> images)
    {
        int values = 3 * imageSize * imageSize;
        var input = new float[images.Count * values];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Length != values) throw new ArgumentException($"image {i} has {images[i].Length} values, not {values}", nameof(images));
            images[i].Span.CopyTo(input.AsSpan(i * values, values));
        }
        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [images.Count, 3, imageSize, imageSize]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [Onnx.OnnxExport.InputName], [tensor], [Onnx.OnnxExport.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        // ONNX Runtime writes a profile only when asked to end it, not when its session closes.
        if (profiling) session.EndProfiling();
        session.Dispose();
        Interlocked.Decrement(ref liveSessions);
    }
}
