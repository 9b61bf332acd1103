using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>
/// The training input pipeline alone: JPEG decoding and the training transform (resize, random crop, flip, mean
/// subtraction into a batch buffer) through <see cref="BatchLoader"/> on a given number of threads, from JPEGs held in
/// memory so that the disk does not count.
/// </summary>
public static class DataPipelineBenchmark
{
    /// <summary>Re-encodes photos at a fixed size (ImageNet's typical 500×375 by default) as JPEGs of quality 90.</summary>
    public static byte[][] EncodeJpegs(IEnumerable<string> photos, int width, int height)
    {
        var encoded = new List<byte[]>();
        foreach (var photo in photos)
        {
            using var image = ImageDecoder.Default.Decode(photo);
            // Four crops of each photo, so the set is not one picture repeated.
            foreach (var (fx, fy) in new[] { (0.0, 0.0), (0.1, 0.05), (0.05, 0.1), (0.15, 0.15) })
            {
                int cropWidth = (int)(image.Width * (1 - fx)), cropHeight = (int)(image.Height * (1 - fy));
                using var copy = image.Clone(c => c.Crop(new Rectangle((int)(image.Width * fx), (int)(image.Height * fy), cropWidth, cropHeight)).Resize(width, height));
                using var stream = new MemoryStream();
                copy.SaveAsJpeg(stream, new JpegEncoder { Quality = 90 });
                encoded.Add(stream.ToArray());
            }
        }
        if (encoded.Count == 0) throw new ArgumentException("no photos to encode", nameof(photos));
        return encoded.ToArray();
    }

    /// <summary>Images per second that <paramref name="threads"/> loader threads deliver as training batches.</summary>
    public static double Run(byte[][] jpegs, ImagePreprocessor preprocessor, int threads, int batchSize, int images)
    {
        var dataset = new EncodedImages(jpegs, images);
        var loader = new BatchLoader(dataset, preprocessor, new LoaderOptions
        {
            BatchSize = batchSize, Threads = threads, Augment = true, Shuffle = true, DropLast = true, Seed = 1,
        });
        // A whole untimed epoch first: the decoder's and the transform's loops run as tier-0 JIT code for the first few
        // hundred images (512 images timed cold ran at 60 to 70 % of the steady rate), and training runs for millions.
        foreach (var batch in loader.ReadEpoch(0)) batch.Dispose();
        var clock = Stopwatch.StartNew();
        int delivered = 0;
        foreach (var batch in loader.ReadEpoch(1))
        {
            delivered += batch.Count;
            batch.Dispose();
        }
        return delivered / clock.Elapsed.TotalSeconds;
    }

    /// <summary><paramref name="count"/> samples cycling over the encoded JPEGs, decoded on every read.</summary>
    private sealed class EncodedImages(byte[][] jpegs, int count) : IImageDataset
    {
        public string Description => $"{jpegs.Length} JPEGs in memory, read {count} times";
        public int Count => count;
        public IReadOnlyList<string> Classes { get; } = ["photo"];
        public int LabelOf(int index) => 0;
        public Image<Rgb24> Load(int index) => ImageDecoder.Default.Decode(jpegs[index % jpegs.Length], NameOf(index));
        public string NameOf(int index) => $"jpeg {index % jpegs.Length}";
    }
}
