using System.Buffers.Binary;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Tests;

/// <summary>Fixtures and small generated datasets for the engine's tests.</summary>
public static class TestData
{
    /// <summary>A SqueezeNext architecture with 10 classes at a small input size, for fast forward and backward passes.</summary>
    public static SqueezeNextArchitecture SmallArchitecture(int inputSize, string configuration = "v_1_0_SqNxt_23") =>
        ConfigurationCatalog.Get(configuration).Architecture with { NumClasses = 10, InputSize = inputSize };

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public const string FashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    public static bool FashionMnistInstalled => File.Exists(Path.Combine(FashionMnistFolder, "train-images-idx3-ubyte.gz"));

    /// <summary>An RGB image whose pixel (x, y) is (x, y, constant): easy to check crops and flips against.</summary>
    public static Image<Rgb24> Gradient(int width, int height, byte blue = 7)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)Math.Min(x, 255), (byte)Math.Min(y, 255), blue);
        return image;
    }

    /// <summary>
    /// A class-folder dataset of small PNGs: class c is a square in a class-specific colour at a random place on a
    /// dark, noisy background, easy enough (and unchanged by mirroring) that a few dozen steps separate the classes.
    /// </summary>
    public static string ImageFolder(string root, int classes, int perClass, int size = 40, int seed = 1, string[]? names = null)
    {
        Rgb24[] colours = [new(230, 40, 40), new(40, 230, 40), new(40, 40, 230), new(230, 230, 40), new(230, 40, 230), new(40, 230, 230)];
        var random = new Random(seed);
        for (int c = 0; c < classes; c++)
        {
            var folder = Path.Combine(root, names?[c] ?? $"class{c}");
            Directory.CreateDirectory(folder);
            for (int i = 0; i < perClass; i++)
            {
                using var image = new Image<Rgb24>(size, size);
                int side = size / 2, left = random.Next(size - side), top = random.Next(size - side);
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        byte noise = (byte)random.Next(40);
                        bool inSquare = x >= left && x < left + side && y >= top && y < top + side;
                        image[x, y] = inSquare ? colours[c % colours.Length] : new Rgb24(noise, noise, noise);
                    }
                image.SaveAsPng(Path.Combine(folder, $"img{i:D3}.png"));
            }
        }
        return root;
    }

    /// <summary>Writes an IDX pair (images, labels) in Fashion-MNIST's format.</summary>
    public static void WriteIdx(string folder, string prefix, byte[][] images, byte[] labels, int rows = 28, int columns = 28, bool gzip = true)
    {
        Directory.CreateDirectory(folder);
        var imageBytes = new List<byte>();
        imageBytes.AddRange(BigEndian(0x00000803));
        imageBytes.AddRange(BigEndian(images.Length));
        imageBytes.AddRange(BigEndian(rows));
        imageBytes.AddRange(BigEndian(columns));
        foreach (var image in images) imageBytes.AddRange(image);
        var labelBytes = new List<byte>();
        labelBytes.AddRange(BigEndian(0x00000801));
        labelBytes.AddRange(BigEndian(labels.Length));
        labelBytes.AddRange(labels);
        Write(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), imageBytes.ToArray(), gzip);
        Write(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), labelBytes.ToArray(), gzip);
    }

    private static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }
        using var file = File.Create(path + ".gz");
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
    }

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }
}

/// <summary>A temporary directory removed at the end of a test class.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sqnxt-test-").FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
