using System.Buffers.Binary;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>
/// Fashion-MNIST (or MNIST) in IDX files, gzipped or not, as Debian's <c>dataset-fashion-mnist</c> installs them in
/// <c>/usr/share/datasets/fashion-mnist/</c>: <c>train-images-idx3-ubyte[.gz]</c>, <c>train-labels-idx1-ubyte[.gz]</c>,
/// <c>t10k-...</c> for the test split. 28×28 gray images, copied to three channels.
/// </summary>
public sealed class FashionMnistDataset : IImageDataset
{
    public static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private const uint ImagesMagic = 0x00000803;
    private const uint LabelsMagic = 0x00000801;

    private readonly byte[] pixels;
    private readonly byte[] labels;
    private readonly int rows;
    private readonly int columns;

    public FashionMnistDataset(string folder, DatasetSplit split)
    {
        var prefix = split == DatasetSplit.Train ? "train" : "t10k";
        var imagesPath = Locate(folder, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Locate(folder, $"{prefix}-labels-idx1-ubyte");

        var imageFile = ReadIdx(imagesPath, ImagesMagic, 3);
        var labelFile = ReadIdx(labelsPath, LabelsMagic, 1);
        int count = imageFile.Dimensions[0];
        rows = imageFile.Dimensions[1];
        columns = imageFile.Dimensions[2];
        if (rows < 1 || columns < 1 || rows > 4096 || columns > 4096)
            throw new DatasetException($"'{imagesPath}' declares {rows}×{columns} images");
        if (labelFile.Dimensions[0] != count)
            throw new DatasetException($"'{imagesPath}' holds {count:N0} images but '{labelsPath}' holds {labelFile.Dimensions[0]:N0} labels");
        if (count == 0)
            throw new DatasetException($"'{imagesPath}' holds no images");
        var badLabel = Array.FindIndex(labelFile.Data, l => l >= FashionClasses.Length);
        if (badLabel >= 0)
            throw new DatasetException($"'{labelsPath}' has label {labelFile.Data[badLabel]} at record {badLabel}; labels must be 0..9");

        pixels = imageFile.Data;
        labels = labelFile.Data;
        Description = $"Fashion-MNIST {(split == DatasetSplit.Train ? "train" : "test")}, {count:N0} images, 10 classes, '{folder}'";
    }

    /// <summary>Records in a split, read from the IDX header alone.</summary>
    public static int CountRecords(string folder, DatasetSplit split)
    {
        var path = Locate(folder, $"{(split == DatasetSplit.Train ? "train" : "t10k")}-labels-idx1-ubyte");
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        Span<byte> header = stackalloc byte[8];
        if (stream.ReadAtLeast(header, 8, throwOnEndOfStream: false) < 8 || BinaryPrimitives.ReadUInt32BigEndian(header) != LabelsMagic)
            throw new DatasetException($"'{path}' is not an IDX label file");
        return (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(header[4..]), int.MaxValue);
    }

    /// <summary>True when <paramref name="folder"/> holds IDX training images.</summary>
    public static bool IsFashionMnistFolder(string folder) =>
        File.Exists(Path.Combine(folder, "train-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(folder, "train-images-idx3-ubyte"));

    public string Description { get; }
    public int Count => labels.Length;
    public IReadOnlyList<string> Classes => FashionClasses;
    public int LabelOf(int index) => labels[index];
    public string NameOf(int index) => $"Fashion-MNIST record {index}";

    public Image<Rgb24> Load(int index)
    {
        int size = rows * columns;
        using var gray = Image.LoadPixelData<L8>(pixels.AsSpan(index * size, size), columns, rows);
        return gray.CloneAs<Rgb24>();
    }

    /// <summary>Raw 28×28 gray pixels of one record (for tests).</summary>
    public ReadOnlySpan<byte> Pixels(int index) => pixels.AsSpan(index * rows * columns, rows * columns);

    private static string Locate(string folder, string name)
    {
        if (!Directory.Exists(folder))
            throw new DatasetException($"dataset folder '{folder}' does not exist");
        foreach (var candidate in new[] { name + ".gz", name })
        {
            var path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DatasetException($"'{folder}' has no {name} or {name}.gz (expected Fashion-MNIST IDX files)");
    }

    private sealed record IdxFile(int[] Dimensions, byte[] Data);

    private static IdxFile ReadIdx(string path, uint expectedMagic, int expectedDimensions)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            Span<byte> word = stackalloc byte[4];
            if (stream.ReadAtLeast(word, 4, throwOnEndOfStream: false) < 4)
                throw new DatasetException($"'{path}' is too short to be an IDX file");
            uint magic = BinaryPrimitives.ReadUInt32BigEndian(word);
            if (magic != expectedMagic)
                throw new DatasetException($"'{path}' is not an IDX file of the expected kind: magic 0x{magic:X8}, expected 0x{expectedMagic:X8}");
            var dimensions = new int[expectedDimensions];
            long total = 1;
            for (int d = 0; d < expectedDimensions; d++)
            {
                if (stream.ReadAtLeast(word, 4, throwOnEndOfStream: false) < 4)
                    throw new DatasetException($"'{path}' ends inside its header");
                dimensions[d] = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(word), int.MaxValue);
                total *= dimensions[d];
            }
            if (total > 1L << 31)
                throw new DatasetException($"'{path}' declares {total:N0} bytes of data, more than this reader accepts");
            var data = new byte[total];
            int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (read < data.Length)
                throw new DatasetException($"'{path}' is truncated: its header declares {total:N0} bytes of data but it holds {read:N0}");
            return new IdxFile(dimensions, data);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"'{path}' is not a valid gzip file: {e.Message}");
        }
        catch (IOException e)
        {
            throw new DatasetException($"'{path}' cannot be read: {e.Message}");
        }
    }
}
