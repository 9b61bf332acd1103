using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SqueezeNext.Vision.Data;

/// <summary>An input that is not a usable image: empty, truncated, corrupt, an unknown format, or over a size limit (<see cref="OverLimit"/>).</summary>
public sealed class ImageDecodeException(string message, Exception? inner = null, bool overLimit = false) : Exception(message, inner)
{
    /// <summary>The image may be fine but is larger than <see cref="ImageLimits"/> allow.</summary>
    public bool OverLimit { get; } = overLimit;
}

/// <summary>Limits that keep hostile images (decompression bombs, huge files) from exhausting memory.</summary>
public sealed record ImageLimits
{
    /// <summary>Largest encoded size accepted.</summary>
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest width × height accepted, read from the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = 50_000_000;

    /// <summary>Largest single buffer the decoder may allocate; a lying header still cannot take more.</summary>
    public int AllocationLimitMegabytes { get; init; } = 512;

    /// <summary>
    /// Most memory the decoder keeps pooled between images. ImageSharp's default scales with the machine's memory
    /// (gigabytes on a server) and is only trimmed when idle, so a busy worker would hold it all.
    /// </summary>
    public int PoolMegabytes { get; init; } = 64;

    /// <summary>
    /// Most scans a JPEG may have: progressive encoders write about ten, and each scan is a pass over the whole image,
    /// so a small file of thousands of scans costs minutes.
    /// </summary>
    public int MaxJpegScans { get; init; } = 64;

    public static ImageLimits Default { get; } = new();
}

/// <summary>
/// Decodes JPEG, PNG, GIF, BMP, TGA, WebP and other formats ImageSharp 2 reads into RGB: grayscale, CMYK and palette
/// images are converted, and EXIF orientation is applied. JPEGs go to libjpeg-turbo (<see cref="TurboJpeg"/>) where
/// it is installed and takes them (faster, and the decoder the reference training used), else to ImageSharp. The
/// header is checked against <see cref="ImageLimits"/> first, so a file that claims 64250×64250 pixels fails at once
/// instead of after gigabytes of allocation.
/// </summary>
public sealed class ImageDecoder
{
    private readonly SixLabors.ImageSharp.Configuration configuration;

    public ImageDecoder(ImageLimits? limits = null)
    {
        Limits = limits ?? ImageLimits.Default;
        configuration = SixLabors.ImageSharp.Configuration.Default.Clone();
        configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
        {
            AllocationLimitMegabytes = Limits.AllocationLimitMegabytes,
            MaximumPoolSizeMegabytes = Limits.PoolMegabytes,
        });
        // Decoding in parallel inside one image fights the loader's own threads.
        configuration.MaxDegreeOfParallelism = 1;
        // A model sees one frame: an animated GIF or multi-page TIFF would otherwise be decoded whole, every frame
        // within the per-buffer limit but all of them together unbounded.
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
    }

    public ImageLimits Limits { get; }

    /// <summary>Which decoder JPEGs go to, for logs: "libjpeg-turbo" or "ImageSharp".</summary>
    public static string JpegDecoder => TurboJpeg.IsAvailable ? "libjpeg-turbo" : "ImageSharp";

    public static ImageDecoder Default { get; } = new();

    public Image<Rgb24> Decode(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ImageDecodeException($"'{path}' does not exist");
            if (info.Length > Limits.MaxBytes)
                throw new ImageDecodeException($"'{path}' is {info.Length:N0} bytes, over the {Limits.MaxBytes:N0}-byte limit", overLimit: true);
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException($"'{path}' cannot be read: {e.Message}", e);
        }
        return Decode(bytes, $"'{path}'");
    }

    /// <summary>Decodes encoded image bytes; <paramref name="name"/> names the input in error messages.</summary>
    /// <param name="minimumSide">
    /// When set, a JPEG may come out at 1/2, 1/4 or 1/8 of its size (<see cref="TurboJpeg"/>), as long as both sides
    /// stay at least this long: for a transform that shrinks the image further anyway.
    /// </param>
    public Image<Rgb24> Decode(byte[] bytes, string name = "the image", int? minimumSide = null) => Decode(bytes, name, minimumSide, strict: false);

    /// <summary>
    /// Decodes as <see cref="Decode(byte[], string, int?)"/>, except that a JPEG whose data libjpeg-turbo finds truncated
    /// or corrupt is refused rather than decoded leniently by ImageSharp: for admitting images into a dataset, where a
    /// half-grey image would train on noise.
    /// </summary>
    public Image<Rgb24> DecodeStrictly(byte[] bytes, string name, int? minimumSide = null) => Decode(bytes, name, minimumSide, strict: true);

    private Image<Rgb24> Decode(byte[] bytes, string name, int? minimumSide, bool strict)
    {
        if (bytes.Length == 0)
            throw new ImageDecodeException($"{name} is empty (0 bytes)");
        if (bytes.Length > Limits.MaxBytes)
            throw new ImageDecodeException($"{name} is {bytes.Length:N0} bytes, over the {Limits.MaxBytes:N0}-byte limit", overLimit: true);

        try
        {
            var info = Image.Identify(configuration, bytes, out var format);
            if (info is null || format is null)
                throw new ImageDecodeException($"{name} is not an image in a supported format (JPEG, PNG, GIF, BMP, TGA, WebP, TIFF, PBM)");
            long pixels = (long)info.Width * info.Height;
            if (info.Width <= 0 || info.Height <= 0)
                throw new ImageDecodeException($"{name} declares an empty size {info.Width}×{info.Height}");
            if (pixels > Limits.MaxPixels)
                throw new ImageDecodeException(
                    $"{name} declares {info.Width}×{info.Height} pixels ({pixels / 1e6:F0} megapixels), over the {Limits.MaxPixels / 1e6:F0}-megapixel limit", overLimit: true);

            if (format is JpegFormat && CountScans(bytes) is var scans && scans > Limits.MaxJpegScans)
                throw new ImageDecodeException($"{name} is a JPEG of {scans:N0} scans, over the limit of {Limits.MaxJpegScans}", overLimit: true);
            var image = format is JpegFormat ? DecodeWithTurboJpeg(bytes, minimumSide, info, strict, name) : null;
            image ??= Image.Load<Rgb24>(configuration, bytes);
            try
            {
                image.Mutate(x => x.AutoOrient());
                return image;
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (UnknownImageFormatException)
        {
            throw new ImageDecodeException($"{name} is not an image in a supported format (JPEG, PNG, GIF, BMP, TGA, WebP, TIFF, PBM)");
        }
        catch (InvalidMemoryOperationException e)
        {
            throw new ImageDecodeException($"{name} needs more memory to decode than the {Limits.AllocationLimitMegabytes} MB limit allows", e, overLimit: true);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
        {
            // Hostile and broken files make decoders fail in many ways (truncated streams, bad tables, divisions by
            // zero); every one of them is a property of the input, never a reason to stop the caller.
            throw new ImageDecodeException($"{name} is corrupt or truncated: {e.Message}", e);
        }
    }

    /// <summary>Start-of-scan markers in a JPEG: entropy-coded data stuffs every 0xFF with a zero, so 0xFF 0xDA is only ever a marker.</summary>
    private static int CountScans(ReadOnlySpan<byte> jpeg)
    {
        int scans = 0;
        for (int i = jpeg.IndexOf((byte)0xFF); i >= 0 && i + 1 < jpeg.Length; )
        {
            if (jpeg[i + 1] == 0xDA) scans++;
            int next = jpeg[(i + 1)..].IndexOf((byte)0xFF);
            i = next < 0 ? -1 : i + 1 + next;
        }
        return scans;
    }

    private Image<Rgb24>? DecodeWithTurboJpeg(byte[] jpeg, int? minimumSide, IImageInfo info, bool strict, string name)
    {
        var image = TurboJpeg.TryDecode(configuration, jpeg, minimumSide, out bool damaged);
        if (damaged && strict) throw new ImageDecodeException($"{name} is a corrupt or truncated JPEG (libjpeg-turbo stopped on damaged data)");
        // The orientation is applied after decoding, as for a full decode.
        if (image is not null) image.Metadata.ExifProfile = info.Metadata.ExifProfile?.DeepClone();
        return image;
    }
}
