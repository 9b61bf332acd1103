using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>
/// libjpeg-turbo's TurboJPEG API (Debian's libturbojpeg0). It decodes JPEGs 1.4 to 1.6 times faster than ImageSharp 2,
/// with the same decoder (and default settings: accurate integer IDCT, smooth chroma upsampling) as TensorFlow's
/// decode_jpeg, which the reference training used. It can also decode at a reduced size: the IDCT produces 1/2, 1/4
/// or 1/8 of each side directly, skipping work on pixels that a resize would throw away (ImageSharp 2 cannot).
/// Absent the library, or for a JPEG it declines, callers decode with ImageSharp.
/// </summary>
internal static partial class TurboJpeg
{
    private const string Library = "libturbojpeg.so.0";

    /// <summary>The reductions tried, smallest image first: the ones libjpeg-turbo's SIMD IDCTs handle (others run in C).</summary>
    private static readonly int[] Denominators = [8, 4, 2, 1];

    private const int PixelFormatRgb = 0;
    private const int ColorspaceRgb = 0, ColorspaceYCbCr = 1, ColorspaceGray = 2;

    // A warning (truncated data, a corrupt segment) is an error here: such files go to ImageSharp, whose verdict
    // the caller reports. LIMITSCANS refuses progressive JPEGs with over 500 scans (a known way to make a small file
    // take minutes to decode).
    private const int FlagStopOnWarning = 8192, FlagLimitScans = 32768;

    private static readonly Lazy<bool> Loaded = new(() => NativeLibrary.TryLoad(Library, out _));

    /// <summary>Whether libturbojpeg.so.0 can be loaded.</summary>
    public static bool IsAvailable => Loaded.Value;

    /// <summary>
    /// Decodes a JPEG to RGB, in full or, given <paramref name="minimumSide"/>, at the smallest of 1/8, 1/4 and 1/2
    /// scale whose sides both stay at least that long; null when TurboJPEG declines the file (a CMYK JPEG, a corrupt
    /// one): the caller then decodes it with ImageSharp.
    /// </summary>
    /// <param name="damaged">Set when TurboJPEG read the file's data and found it truncated or corrupt (rather than declining its kind).</param>
    public static unsafe Image<Rgb24>? TryDecode(SixLabors.ImageSharp.Configuration configuration, byte[] jpeg, int? minimumSide, out bool damaged)
    {
        damaged = false;
        if (!IsAvailable) return null;
        nint handle = tjInitDecompress();
        if (handle == 0) return null;
        Image<Rgb24>? image = null;
        try
        {
            fixed (byte* source = jpeg)
            {
                int width, height, subsampling, colorspace;
                if (tjDecompressHeader3(handle, source, (nuint)jpeg.Length, &width, &height, &subsampling, &colorspace) != 0) return null;
                if (colorspace is not (ColorspaceYCbCr or ColorspaceGray or ColorspaceRgb)) return null;
                int denominator = minimumSide is { } side ? SmallestScale(width, height, side) : 1;
                int scaledWidth = Scaled(width, denominator), scaledHeight = Scaled(height, denominator);
                image = new Image<Rgb24>(configuration, scaledWidth, scaledHeight);
                if (!Decompress(handle, source, jpeg.Length, image))
                {
                    damaged = true;
                    return null;
                }
                var decoded = image;
                image = null;
                return decoded;
            }
        }
        finally
        {
            image?.Dispose();
            tjDestroy(handle);
        }
    }

    /// <summary>Decompresses into the image's pixels at the image's size (TurboJPEG picks the reduction that gives it).</summary>
    private static unsafe bool Decompress(nint handle, byte* source, int length, Image<Rgb24> image)
    {
        const int flags = FlagStopOnWarning | FlagLimitScans;
        int width = image.Width, height = image.Height, pitch = width * 3;
        // ImageSharp keeps an image up to its buffer size (4 MB by default) in one block: decode straight into it.
        if (image.DangerousTryGetSinglePixelMemory(out var pixels))
        {
            using var pin = pixels.Pin();
            return tjDecompress2(handle, source, (nuint)length, (byte*)pin.Pointer, width, pitch, height, PixelFormatRgb, flags) == 0;
        }
        var rgb = ArrayPool<byte>.Shared.Rent(pitch * height);
        try
        {
            fixed (byte* destination = rgb)
            {
                if (tjDecompress2(handle, source, (nuint)length, destination, width, pitch, height, PixelFormatRgb, flags) != 0) return false;
            }
            for (int y = 0; y < height; y++)
                MemoryMarshal.Cast<byte, Rgb24>(rgb.AsSpan(y * pitch, pitch)).CopyTo(image.DangerousGetPixelRowMemory(y).Span);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgb);
        }
    }

    /// <summary>The largest denominator that keeps both sides at least <paramref name="minimumSide"/> (1 when none does).</summary>
    private static int SmallestScale(int width, int height, int minimumSide) =>
        Denominators.First(d => d == 1 || (Scaled(width, d) >= minimumSide && Scaled(height, d) >= minimumSide));

    /// <summary>TJSCALED: a side decoded at 1/<paramref name="denominator"/>, rounded up.</summary>
    private static int Scaled(int side, int denominator) => (side + denominator - 1) / denominator;

    [LibraryImport(Library)]
    private static partial nint tjInitDecompress();

    [LibraryImport(Library)]
    private static unsafe partial int tjDecompressHeader3(nint handle, byte* jpegBuffer, nuint jpegSize, int* width, int* height, int* subsampling, int* colorspace);

    [LibraryImport(Library)]
    private static unsafe partial int tjDecompress2(nint handle, byte* jpegBuffer, nuint jpegSize, byte* destination, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library)]
    private static partial int tjDestroy(nint handle);
}
