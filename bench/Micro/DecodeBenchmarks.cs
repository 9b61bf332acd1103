using BenchmarkDotNet.Attributes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Data;

namespace SqueezeNext.Benchmarks;

/// <summary>
/// What an image costs before the forward pass, per photo: ImageSharp alone (the decoder before libjpeg-turbo), the
/// <see cref="ImageDecoder"/> in full (libjpeg-turbo for JPEGs where installed), the decoder at a reduced size where
/// the evaluation resize allows it (JPEGs only), each also followed by the evaluation transform of 1.0-SqNxt-23
/// (resize to 256×256, crop 227×227, subtract the mean, CHW floats).
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private readonly ImageDecoder decoder = new();
    private readonly ImagePreprocessor preprocessor = ImagePreprocessor.For(ConfigurationCatalog.Get("v_1_0_SqNxt_23"));
    private byte[] encoded = [];
    private float[] input = [];

    [ParamsSource(nameof(Names))]
    public string Photo { get; set; } = "";

    public static IEnumerable<string> Names => Photos.Names;

    [GlobalSetup]
    public void Setup()
    {
        encoded = Photos.Load(Photo);
        input = new float[preprocessor.ValuesPerImage];
    }

    [Benchmark(Baseline = true)]
    public int ImageSharpFull()
    {
        using var image = Image.Load<Rgb24>(encoded);
        return image.Width;
    }

    [Benchmark]
    public float ImageSharpFullAndTransform()
    {
        using var image = Image.Load<Rgb24>(encoded);
        preprocessor.Evaluate(image, input);
        return input[0];
    }

    [Benchmark]
    public int DecodeFull()
    {
        using var image = decoder.Decode(encoded, Photo);
        return image.Width;
    }

    [Benchmark]
    public int DecodeReduced()
    {
        using var image = decoder.Decode(encoded, Photo, preprocessor.EvaluationMinimumSide);
        return image.Width;
    }

    [Benchmark]
    public float DecodeFullAndTransform()
    {
        using var image = decoder.Decode(encoded, Photo);
        preprocessor.Evaluate(image, input);
        return input[0];
    }

    [Benchmark]
    public float DecodeReducedAndTransform()
    {
        using var image = decoder.Decode(encoded, Photo, preprocessor.EvaluationMinimumSide);
        preprocessor.Evaluate(image, input);
        return input[0];
    }
}
