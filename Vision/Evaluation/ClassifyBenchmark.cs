using System.Diagnostics;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Inference;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>Images per second of in-process classification, with and without the decoding.</summary>
public sealed record ClassifyBenchmarkResult(int BatchSize, int Threads, int Images, double ImagesPerSecond, double ForwardImagesPerSecond,
    double DecodeMillisecondsPerImage);

/// <summary>
/// Classification in process, without the broker: the encoded images of a batch are decoded (at a reduced size where
/// allowed, as the worker does by default) and pre-processed on <c>threads</c> threads, then one forward pass,
/// softmax and top 5, one after the other. A baseline of the classify load test. Its forward-only rate comes out
/// below <see cref="ThroughputBenchmark"/>'s inference, which is the raw batched inference the load test compares with.
/// </summary>
public static class ClassifyBenchmark
{
    public static ClassifyBenchmarkResult Run(SqueezeNextConfiguration configuration, byte[][] encoded, int batchSize, int threads,
        int batches, int warmupBatches, Device device, InferenceEngine engine, bool reducedSizeDecoding = true)
    {
        if (encoded.Length == 0) throw new ArgumentException("no images to classify", nameof(encoded));
        var manifest = new ModelManifest { Configuration = configuration, Origin = "benchmark: random weights" };
        using var classifier = new ImageClassifier(new LoadedModel(new SqueezeNextNetwork(configuration.Architecture, seed: 0), manifest), device, engine);
        var decoder = ImageDecoder.Default;
        int values = classifier.Preprocessor.ValuesPerImage;
        var buffer = new float[batchSize * values];
        double total = 0, forward = 0;
        int next = 0;
        for (int b = 0; b < warmupBatches + batches; b++)
        {
            var clock = Stopwatch.StartNew();
            int first = next;
            Parallel.For(0, batchSize, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                using var image = decoder.Decode(encoded[(first + i) % encoded.Length], $"image {(first + i) % encoded.Length}",
                    reducedSizeDecoding ? classifier.Preprocessor.EvaluationMinimumSide : null);
                classifier.Preprocessor.Evaluate(image, buffer.AsSpan(i * values, values));
            });
            next += batchSize;
            double decoded = clock.Elapsed.TotalSeconds;
            classifier.ClassifyPreprocessed(buffer, batchSize, 5);
            if (b < warmupBatches) continue;
            total += clock.Elapsed.TotalSeconds;
            forward += clock.Elapsed.TotalSeconds - decoded;
        }
        int images = batchSize * batches;
        return new ClassifyBenchmarkResult(batchSize, threads, images, images / total, images / forward, (total - forward) * 1000 / images);
    }
}
