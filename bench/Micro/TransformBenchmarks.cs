using System.Buffers;
using BenchmarkDotNet.Attributes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Data;

namespace SqueezeNext.Benchmarks;

/// <summary>
/// 1.0-SqNxt-23's transforms on an already decoded photo: the pre-processor's evaluation and training transforms
/// (one resampling pass straight into the crop's floats) against the route they replaced, ImageSharp's triangle
/// resize to a whole 256×256 image followed by the crop into CHW floats.
/// </summary>
[MemoryDiagnoser]
public class TransformBenchmarks
{
    private readonly ImagePreprocessor preprocessor = ImagePreprocessor.For(ConfigurationCatalog.Get("v_1_0_SqNxt_23"));
    private Image<Rgb24> image = null!;
    private float[] input = [];
    private readonly Random random = new(1);

    [ParamsSource(nameof(Names))]
    public string Photo { get; set; } = "";

    public static IEnumerable<string> Names => Photos.Names;

    [GlobalSetup]
    public void Setup()
    {
        image = ImageDecoder.Default.Decode(Photos.Load(Photo), Photo);
        input = new float[preprocessor.ValuesPerImage];
    }

    [GlobalCleanup]
    public void Cleanup() => image.Dispose();

    [Benchmark(Baseline = true)]
    public float ImageSharpResizeThenCrop()
    {
        using var resized = image.Clone(c => c.Resize(new ResizeOptions { Size = new Size(256, 256), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle }));
        int offset = preprocessor.EvalOffset, size = preprocessor.InputSize, plane = size * size;
        var pixels = ArrayPool<Rgb24>.Shared.Rent(256 * 256);
        resized.CopyPixelDataTo(pixels.AsSpan(0, 256 * 256));
        float[] mean = ImagePreprocessor.TfMeanRgb;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                var p = pixels[(offset + y) * 256 + offset + x];
                input[y * size + x] = p.R - mean[0];
                input[plane + y * size + x] = p.G - mean[1];
                input[2 * plane + y * size + x] = p.B - mean[2];
            }
        ArrayPool<Rgb24>.Shared.Return(pixels);
        return input[0];
    }

    [Benchmark]
    public float Evaluate()
    {
        preprocessor.Evaluate(image, input);
        return input[0];
    }

    [Benchmark]
    public float Train()
    {
        preprocessor.Train(image, random, input);
        return input[0];
    }
}
