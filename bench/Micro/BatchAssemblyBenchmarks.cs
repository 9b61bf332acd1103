using BenchmarkDotNet.Attributes;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.Benchmarks;

/// <summary>Gathering pre-processed 227×227 images into the input tensor of one forward pass (the classify batch's only copy).</summary>
/// <remarks>In process: the project BenchmarkDotNet generates for a benchmark does not carry libtorch's native package.</remarks>
[MemoryDiagnoser]
[InProcess]
public class BatchAssemblyBenchmarks
{
    private const int InputSize = 227;
    private ReadOnlyMemory<float>[] images = [];

    [Params(1, 8, 32)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        images = Enumerable.Range(0, BatchSize)
            .Select(_ => new ReadOnlyMemory<float>(Enumerable.Range(0, 3 * InputSize * InputSize).Select(_ => (float)random.NextDouble()).ToArray()))
            .ToArray();
    }

    [Benchmark]
    public long FromImages()
    {
        using var tensor = BatchTensors.FromImages(images, InputSize);
        return tensor.shape[0];
    }
}
