using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>
/// Resizes an RGB image with the triangle filter and writes one square crop of the result straight into the network's
/// CHW floats, computing the cropped pixels only. The filter is ImageSharp 2's <c>KnownResamplers.Triangle</c>, which
/// the pipeline resized with before: output pixel i of an axis is centred on source position (i + ½)·ratio − ½, the
/// filter's support widens by the shrink factor (so shrinking averages every source pixel, not only the nearest
/// two), and each pixel's weights are normalised to sum to one. The result is rounded to whole levels as ImageSharp
/// rounds its resized image to bytes, so the values match its resize-then-crop but for the odd value on a rounding
/// boundary (one level; <c>TriangleResamplerTests</c>). It costs a fraction of the ImageSharp route: no intermediate
/// image, no conversion of every pixel to a four-float vector and back, nothing computed outside the crop.
/// Over 200 lines as one algorithm: the weights, the two passes and the crop belong together.
/// </summary>
internal static class TriangleResampler
{
    /// <summary>
    /// Resizes <paramref name="source"/> (a rectangle of <paramref name="image"/>) to
    /// <paramref name="resizedWidth"/>×<paramref name="resizedHeight"/> and writes the
    /// <paramref name="size"/>×<paramref name="size"/> crop at (<paramref name="cropLeft"/>, <paramref name="cropTop"/>)
    /// of it, mirrored if <paramref name="flip"/>, as value = level · scale[c] + offset[c] in CHW order.
    /// </summary>
    public static void ResizeCrop(Image<Rgb24> image, Rectangle source, int resizedWidth, int resizedHeight,
        int cropLeft, int cropTop, int size, bool flip, ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, Span<float> chw)
    {
        if (source.X < 0 || source.Y < 0 || source.Width < 1 || source.Height < 1 || source.Right > image.Width || source.Bottom > image.Height)
            throw new ArgumentOutOfRangeException(nameof(source), $"source {source} is outside the {image.Width}×{image.Height} image");
        if (cropLeft < 0 || cropTop < 0 || size < 1 || cropLeft + size > resizedWidth || cropTop + size > resizedHeight)
            throw new ArgumentOutOfRangeException(nameof(cropLeft), $"crop {cropLeft},{cropTop} {size}×{size} is outside the {resizedWidth}×{resizedHeight} image");
        int plane = size * size;
        if (chw.Length < 3 * plane) throw new ArgumentException($"destination holds {chw.Length} floats, needs {3 * plane}", nameof(chw));

        var columns = AxisKernels.For(source.Width, resizedWidth, cropLeft, size, ref lastColumns);
        var rows = AxisKernels.For(source.Height, resizedHeight, cropTop, size, ref lastRows);

        int rowValues = 3 * (columns.End - columns.Start[0]);
        // One float of slack: the horizontal pass reads four floats (R, G, B and the next pixel's R) at a time.
        var rented = ArrayPool<float>.Shared.Rent(rowValues + 1);
        try
        {
            Resample(image, source, columns, rows, size, flip, scale, offset, chw, rented.AsSpan(0, rowValues + 1));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    private static void Resample(Image<Rgb24> image, Rectangle source, AxisKernels columns, AxisKernels rows, int size,
        bool flip, ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, Span<float> chw, Span<float> blended)
    {
        if (image.DangerousTryGetSinglePixelMemory(out var memory))
        {
            Resample(MemoryMarshal.AsBytes(memory.Span), image.Width, source, columns, rows, size, flip, scale, offset, chw, blended);
            return;
        }
        // A large image may lie in several buffers; the passes want one.
        var pixels = ArrayPool<Rgb24>.Shared.Rent(image.Width * image.Height);
        try
        {
            image.CopyPixelDataTo(pixels.AsSpan(0, image.Width * image.Height));
            Resample(MemoryMarshal.AsBytes(pixels.AsSpan(0, image.Width * image.Height)), image.Width, source, columns, rows, size, flip, scale, offset, chw, blended);
        }
        finally
        {
            ArrayPool<Rgb24>.Shared.Return(pixels);
        }
    }

    private static void Resample(ReadOnlySpan<byte> pixels, int width, Rectangle source, AxisKernels columns, AxisKernels rows,
        int size, bool flip, ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, Span<float> chw, Span<float> blended)
    {
        // The vertical pass runs first, over just the source columns the crop's horizontal kernels read: it is the
        // one that vectorises across a row's interleaved bytes, and it leaves the horizontal pass `size` rows.
        int plane = size * size;
        int firstColumn = columns.Start[0];
        int rowValues = blended.Length - 1;
        nuint left = (nuint)(3 * (source.X + firstColumn));
        Span<nuint> tapRows = stackalloc nuint[rows.MaxTaps];

        var levelScale = Vector128.Create(scale[0], scale[1], scale[2], 0f);
        var levelOffset = Vector128.Create(offset[0], offset[1], offset[2], 0f);
        var half = Vector128.Create(0.5f);
        var maxLevel = Vector128.Create(255f);
        ref byte pixel = ref MemoryMarshal.GetReference(pixels);
        ref float line = ref MemoryMarshal.GetReference(blended);
        ref float r = ref MemoryMarshal.GetReference(chw);
        ref float g = ref Unsafe.Add(ref r, plane);
        ref float b = ref Unsafe.Add(ref r, 2 * plane);

        for (int y = 0; y < size; y++)
        {
            int taps = rows.Count[y];
            for (int t = 0; t < taps; t++) tapRows[t] = (nuint)(source.Y + rows.Start[y] + t) * (nuint)(3 * width) + left;
            BlendRows(ref pixel, tapRows[..taps], rows.Weights.AsSpan(y * rows.MaxTaps, taps), rowValues, ref line);

            for (int x = 0; x < size; x++)
            {
                ref float first = ref Unsafe.Add(ref line, 3 * (columns.Start[x] - firstColumn));
                ref float weight = ref columns.Weights[x * columns.MaxTaps];
                var sum = Vector128<float>.Zero;
                int columnTaps = columns.Count[x];
                for (int t = 0; t < columnTaps; t++)
                    sum += Vector128.Create(Unsafe.Add(ref weight, t)) * Vector128.LoadUnsafe(ref Unsafe.Add(ref first, 3 * t));
                var level = Vector128.Floor(Vector128.Min(Vector128.Max(sum + half, Vector128<float>.Zero), maxLevel));
                var value = level * levelScale + levelOffset;
                int index = y * size + (flip ? size - 1 - x : x);
                Unsafe.Add(ref r, index) = value.GetElement(0);
                Unsafe.Add(ref g, index) = value.GetElement(1);
                Unsafe.Add(ref b, index) = value.GetElement(2);
            }
        }
    }

    /// <summary>output[i] = Σₜ weights[t] · pixels[rows[t] + i] for i &lt; length.</summary>
    private static void BlendRows(ref byte pixels, ReadOnlySpan<nuint> rows, ReadOnlySpan<float> weights, int length, ref float output)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // 32 bytes at a time, the sums kept in registers across the taps.
            for (; i <= length - Vector256<byte>.Count; i += Vector256<byte>.Count)
            {
                Vector256<float> a = default, b = default, c = default, d = default;
                for (int t = 0; t < rows.Length; t++)
                {
                    var w = Vector256.Create(weights[t]);
                    var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref pixels, rows[t] + (nuint)i));
                    var (v0, v1) = Vector256.Widen(low);
                    var (v2, v3) = Vector256.Widen(high);
                    a += w * Vector256.ConvertToSingle(v0.AsInt32());
                    b += w * Vector256.ConvertToSingle(v1.AsInt32());
                    c += w * Vector256.ConvertToSingle(v2.AsInt32());
                    d += w * Vector256.ConvertToSingle(v3.AsInt32());
                }
                ref float at = ref Unsafe.Add(ref output, i);
                a.StoreUnsafe(ref at);
                b.StoreUnsafe(ref Unsafe.Add(ref at, 8));
                c.StoreUnsafe(ref Unsafe.Add(ref at, 16));
                d.StoreUnsafe(ref Unsafe.Add(ref at, 24));
            }
        }
        for (; i < length; i++)
        {
            float sum = 0;
            for (int t = 0; t < rows.Length; t++) sum += weights[t] * Unsafe.Add(ref pixels, rows[t] + (nuint)i);
            Unsafe.Add(ref output, i) = sum;
        }
    }

    // Consecutive images usually share their size (a classify batch, a validation set of one camera), so each thread
    // keeps the kernels it last computed.
    [ThreadStatic] private static AxisKernels? lastColumns;
    [ThreadStatic] private static AxisKernels? lastRows;

    /// <summary>The source window and weights of each output pixel [first, first + count) of one axis.</summary>
    private sealed class AxisKernels
    {
        private readonly int sourceLength, destinationLength, first;

        private AxisKernels(int sourceLength, int destinationLength, int first, int count)
        {
            this.sourceLength = sourceLength;
            this.destinationLength = destinationLength;
            this.first = first;
            Start = new int[count];
            Count = new int[count];

            double ratio = (double)sourceLength / destinationLength;
            double support = Math.Max(1.0, ratio);      // the triangle's half-width, in source pixels
            int radius = (int)TolerantCeiling(support);
            MaxTaps = 2 * radius + 1;
            Weights = new float[count * MaxTaps];
            Span<double> values = stackalloc double[MaxTaps];

            for (int i = 0; i < count; i++)
            {
                double centre = (first + i + 0.5) * ratio - 0.5;
                int left = Math.Max(0, (int)TolerantCeiling(centre - radius));
                int right = Math.Min(sourceLength - 1, (int)TolerantFloor(centre + radius));
                double sum = 0;
                for (int j = left; j <= right; j++)
                {
                    double value = Triangle((float)((j - centre) / support));
                    values[j - left] = value;
                    sum += value;
                }
                Start[i] = left;
                Count[i] = right - left + 1;
                for (int j = 0; j < Count[i]; j++)
                    Weights[i * MaxTaps + j] = (float)(sum > 0 ? values[j] / sum : values[j]);
                End = Math.Max(End, right + 1);
            }
        }

        public int[] Start { get; }
        public int[] Count { get; }

        /// <summary>One past the last source index any kernel reads.</summary>
        public int End { get; }

        /// <summary>Most source pixels one output pixel reads.</summary>
        public int MaxTaps { get; }

        /// <summary>Output pixel i's weights at [i · MaxTaps, i · MaxTaps + Count[i]).</summary>
        public float[] Weights { get; }

        public static AxisKernels For(int sourceLength, int destinationLength, int first, int count, ref AxisKernels? last)
        {
            if (last is not null && last.sourceLength == sourceLength && last.destinationLength == destinationLength
                && last.first == first && last.Start.Length == count)
                return last;
            return last = new AxisKernels(sourceLength, destinationLength, first, count);
        }

        private static float Triangle(float x)
        {
            x = Math.Abs(x);
            return x < 1f ? 1f - x : 0f;
        }

        // Window bounds within 1e-8 of a whole number are taken as that number, as ImageSharp does, so a centre that
        // lands on a source pixel up to rounding gets the same window.
        private static double TolerantCeiling(double value) =>
            Math.Abs(value - Math.Round(value)) < 1e-8 ? Math.Round(value) : Math.Ceiling(value);

        private static double TolerantFloor(double value) =>
            Math.Abs(value - Math.Round(value)) < 1e-8 ? Math.Round(value) : Math.Floor(value);
    }
}
