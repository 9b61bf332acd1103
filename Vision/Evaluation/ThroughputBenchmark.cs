using Google.Protobuf;
using System.Diagnostics;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Onnx;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Evaluation;

public enum BenchmarkMode
{
    /// <summary>Forward pass without gradients, eval mode.</summary>
    Infer,

    /// <summary>Forward, backward and an SGD step, train mode.</summary>
    Train,
}

/// <summary>Timing of a throughput benchmark after its warm-up steps.</summary>
public sealed record BenchmarkResult(
    BenchmarkMode Mode,
    int BatchSize,
    int InputSize,
    int Threads,
    int Steps,
    double ImagesPerSecond,
    double MedianSecondsPerStep,
    double[] SecondsPerStep);

/// <summary>
/// Measures how many images per second a network processes on synthetic input of a fixed size: the engine's speed
/// without data loading, for comparing with other frameworks on the same machine.
/// </summary>
public static class ThroughputBenchmark
{
    public static BenchmarkResult Run(SqueezeNextArchitecture architecture, BenchmarkMode mode, int batchSize, int inputSize,
        int steps, int warmupSteps, Device device, long seed = 0, bool channelsLast = true, bool foldBatchNorm = true)
    {
        var sized = architecture with { InputSize = inputSize };
        using var network = new SqueezeNextNetwork(sized, seed: seed) { ChannelsLastOnCpu = channelsLast };
        network.to(device);
        using var optimizer = new SgdMomentum(network.named_parameters(), 0.9, 0);
        using var input = randn(new long[] { batchSize, 3, inputSize, inputSize }, generator: new Generator((ulong)seed)).to(device);
        using var labels = randint(sized.NumClasses, new long[] { batchSize }, generator: new Generator((ulong)seed + 1)).to(device);
        if (mode == BenchmarkMode.Train) network.train();
        else
        {
            // Inference as ImageClassifier runs it.
            network.eval();
            if (foldBatchNorm) network.FoldBatchNorm();
        }

        var times = new List<double>();
        for (int i = 0; i < warmupSteps + steps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                if (mode == BenchmarkMode.Train)
                {
                    optimizer.ZeroGrad();
                    var loss = nn.functional.cross_entropy(network.forward(input), labels);
                    loss.backward();
                    optimizer.Step(0.01);
                    loss.item<float>();
                }
                else
                {
                    using var noGrad = no_grad();
                    network.forward(input).sum().item<float>();
                }
            }
            if (i >= warmupSteps) times.Add(clock.Elapsed.TotalSeconds);
        }
        return Result(mode, batchSize, inputSize, steps, times);
    }

    /// <summary>
    /// Inference in ONNX Runtime on the network's exported graph (BatchNorm folded), with libtorch's thread count: what
    /// <see cref="InferenceEngine.OnnxRuntime"/> classification runs.
    /// </summary>
    public static BenchmarkResult RunOnnxRuntime(SqueezeNextArchitecture architecture, int batchSize, int inputSize, int steps, int warmupSteps,
        Device device, long seed = 0, Action<Microsoft.ML.OnnxRuntime.SessionOptions>? tune = null)
    {
        var sized = architecture with { InputSize = inputSize };
        byte[] graph;
        float[] images;
        using (var network = new SqueezeNextNetwork(sized, seed: seed))
        using (var generator = new Generator((ulong)seed))
        using (var input = randn(new long[] { batchSize, 3, inputSize, inputSize }, generator: generator))
        {
            graph = OnnxExport.Build(network, new SqueezeNextConfiguration { Name = "benchmark", Architecture = sized }).ToByteArray();
            images = input.data<float>().ToArray();
        }
        using var forwardPass = new OnnxRuntimeForwardPass(graph, inputSize, device, get_num_threads(), tune);
        int values = 3 * inputSize * inputSize;
        var batch = Enumerable.Range(0, batchSize).Select(i => new ReadOnlyMemory<float>(images, i * values, values)).ToArray();
        var times = new List<double>();
        for (int i = 0; i < warmupSteps + steps; i++)
        {
            var clock = Stopwatch.StartNew();
            forwardPass.Logits(batch);
            if (i >= warmupSteps) times.Add(clock.Elapsed.TotalSeconds);
        }
        return Result(BenchmarkMode.Infer, batchSize, inputSize, steps, times);
    }

    private static BenchmarkResult Result(BenchmarkMode mode, int batchSize, int inputSize, int steps, List<double> times)
    {
        var sorted = times.OrderBy(t => t).ToArray();
        double median = sorted[sorted.Length / 2];
        return new BenchmarkResult(mode, batchSize, inputSize, get_num_threads(), steps, batchSize * steps / times.Sum(), median, times.ToArray());
    }
}
