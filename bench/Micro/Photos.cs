using SqueezeNext.Vision.Evaluation;

namespace SqueezeNext.Benchmarks;

/// <summary>The encoded inputs of the benchmarks: the test photos as they are, and one re-encoded at ImageNet's typical 500×375.</summary>
public static class Photos
{
    /// <summary>The fixture photos (copied next to the benchmarks) and the synthetic ImageNet-sized JPEG.</summary>
    public static IEnumerable<string> Names => ["tabby_cat.jpg", "rocket.jpg", "coffee.png", "chelsea.png", ImageNetSized];

    /// <summary>tabby_cat.jpg resized to 500×375 and saved at quality 90, as the data-pipeline benchmark does.</summary>
    public const string ImageNetSized = "imagenet-500x375.jpg";

    public static byte[] Load(string name) => name == ImageNetSized
        ? DataPipelineBenchmark.EncodeJpegs([Path("tabby_cat.jpg")], 500, 375)[0]
        : File.ReadAllBytes(Path(name));

    private static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Photos", name);
}
