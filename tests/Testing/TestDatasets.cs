using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Testing;

/// <summary>Archives of real images for the dataset upload and import tests.</summary>
public static class TestDatasets
{
    /// <summary>Fashion-MNIST's class names as folder names ("T-shirt/top" cannot be one).</summary>
    public static readonly string[] FashionFolders = ["tshirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"];

    public static bool FashionMnistInstalled => File.Exists(Path.Combine(TestServices.FashionMnist, "t10k-images-idx3-ubyte.gz"));

    /// <summary>
    /// A zip of class folders: Fashion-MNIST's test images written out as PNGs (<paramref name="perClass"/> of each of
    /// <paramref name="classes"/>, starting at the <paramref name="skip"/>-th of each class), and, with
    /// <paramref name="photos"/>, the real photos in a class folder of their own.
    /// </summary>
    public static string FashionZip(string path, int perClass, IReadOnlyList<int>? classes = null, int skip = 0, bool photos = false)
    {
        classes ??= Enumerable.Range(0, 10).ToList();
        var (images, labels) = ReadFashionTest();
        var written = new int[10];
        var seen = new int[10];
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if (!classes.Contains(label) || written[label] >= perClass || seen[label]++ < skip) continue;
            using var image = Image.LoadPixelData<L8>(images.AsSpan(i * 784, 784), 28, 28);
            var entry = zip.CreateEntry($"{FashionFolders[label]}/test-{i:D5}.png", CompressionLevel.Fastest);
            using (var stream = entry.Open()) image.SaveAsPng(stream);
            written[label]++;
        }
        if (photos)
        {
            foreach (var photo in new[] { "chelsea.png", "coffee.png", "rocket.jpg", "tabby_cat.jpg" })
                zip.CreateEntryFromFile(TestServices.Fixture(photo), $"photos/{photo}", CompressionLevel.NoCompression);
        }
        return path;
    }

    private static (byte[] Images, byte[] Labels) ReadFashionTest()
    {
        static byte[] Read(string name, int header)
        {
            using var file = File.OpenRead(Path.Combine(TestServices.FashionMnist, name));
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var memory = new MemoryStream();
            gzip.CopyTo(memory);
            return memory.ToArray()[header..];
        }
        return (Read("t10k-images-idx3-ubyte.gz", 16), Read("t10k-labels-idx1-ubyte.gz", 8));
    }
}
