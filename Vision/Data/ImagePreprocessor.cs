using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>Where a training sample was cropped from and whether it was mirrored (for tests and debugging).</summary>
public readonly record struct CropChoice(int X, int Y, int Width, int Height, bool Flip);

/// <summary>
/// Turns a decoded RGB image into the network's CHW float input (SQUEEZENEXT.md §6).
/// <list type="bullet">
/// <item><b>TfSeed</b> (the TF port): resize to R×R ignoring aspect (R = 256 for 227 inputs, scaled for others);
/// training takes a random S×S crop (offsets 0..R−S) and mirrors with p = 0.5; evaluation crops at offset
/// ⌈(R−S)/2⌉ (rows/cols [15, 242) at 227). Values stay 0–255 minus the RGB mean (123, 117, 104).</item>
/// <item><b>Torchvision</b>: evaluation resizes the short side to R (256 for 224) and takes the centre S×S;
/// training takes a random-resized crop (8–100 % of the area, aspect 3/4–4/3) and mirrors; values are scaled to
/// [0, 1] and normalised with the ImageNet mean and standard deviation.</item>
/// </list>
/// </summary>
public sealed class ImagePreprocessor
{
    public static readonly float[] TfMeanRgb = [123f, 117f, 104f];
    public static readonly float[] TorchvisionMeanRgb = [0.485f, 0.456f, 0.406f];
    public static readonly float[] TorchvisionStdRgb = [0.229f, 0.224f, 0.225f];

    private readonly float[] scale;
    private readonly float[] offset;

    public ImagePreprocessor(PreprocessingKind kind, int inputSize, bool horizontalFlip)
    {
        if (inputSize < 1) throw new ArgumentOutOfRangeException(nameof(inputSize));
        Kind = kind;
        InputSize = inputSize;
        HorizontalFlip = horizontalFlip;
        // The references resize 256 for a 227 (TF) or 224 (torchvision) crop; other sizes keep that ratio.
        ResizeSize = kind == PreprocessingKind.TfSeed
            ? (int)Math.Round(inputSize * 256.0 / 227.0)
            : (int)Math.Round(inputSize * 256.0 / 224.0);
        EvalOffset = (ResizeSize - InputSize + 1) / 2;

        // value = pixel · scale[c] + offset[c]
        if (kind == PreprocessingKind.TfSeed)
        {
            scale = [1f, 1f, 1f];
            offset = TfMeanRgb.Select(m => -m).ToArray();
        }
        else
        {
            scale = TorchvisionStdRgb.Select(s => 1f / (255f * s)).ToArray();
            offset = TorchvisionMeanRgb.Zip(TorchvisionStdRgb, (m, s) => -m / s).ToArray();
        }
    }

    public static ImagePreprocessor For(SqueezeNextConfiguration configuration) =>
        new(configuration.Training.Preprocessing, configuration.Architecture.InputSize, configuration.Training.HorizontalFlip);

    public PreprocessingKind Kind { get; }
    public int InputSize { get; }
    public int ResizeSize { get; }
    public bool HorizontalFlip { get; }

    /// <summary>Top-left of the evaluation crop within the resized image (TfSeed: 15 for 227 inputs).</summary>
    public int EvalOffset { get; }

    /// <summary>
    /// The shortest side a decoded image needs for <see cref="Evaluate"/> to only shrink it (both transforms resize
    /// to at least R on each side): the limit for <see cref="ImageDecoder"/>'s reduced-size decoding.
    /// </summary>
    public int EvaluationMinimumSide => ResizeSize;

    /// <summary>Floats per image: 3 × S × S.</summary>
    public int ValuesPerImage => 3 * InputSize * InputSize;

    /// <summary>Training transform with randomness from <paramref name="random"/>; writes 3·S·S floats in CHW order.</summary>
    public CropChoice Train(Image<Rgb24> image, Random random, Span<float> chw)
    {
        if (Kind == PreprocessingKind.TfSeed)
        {
            int span = ResizeSize - InputSize;
            int y = random.Next(span + 1);
            int x = random.Next(span + 1);
            bool flip = HorizontalFlip && random.NextDouble() < 0.5;
            ResizeCrop(image, image.Bounds(), ResizeSize, ResizeSize, x, y, flip, chw);
            return new CropChoice(x, y, InputSize, InputSize, flip);
        }
        else
        {
            var crop = SampleResizedCrop(image.Width, image.Height, random);
            bool flip = HorizontalFlip && random.NextDouble() < 0.5;
            ResizeCrop(image, new Rectangle(crop.X, crop.Y, crop.Width, crop.Height), InputSize, InputSize, 0, 0, flip, chw);
            return crop with { Flip = flip };
        }
    }

    /// <summary>Deterministic evaluation transform; writes 3·S·S floats in CHW order.</summary>
    public void Evaluate(Image<Rgb24> image, Span<float> chw)
    {
        if (Kind == PreprocessingKind.TfSeed)
        {
            ResizeCrop(image, image.Bounds(), ResizeSize, ResizeSize, EvalOffset, EvalOffset, false, chw);
        }
        else
        {
            // torchvision: Resize(R) scales the short side to R; CenterCrop rounds the offset.
            double ratio = (double)ResizeSize / Math.Min(image.Width, image.Height);
            int width = Math.Max(InputSize, (int)(image.Width * ratio));
            int height = Math.Max(InputSize, (int)(image.Height * ratio));
            if (image.Width <= image.Height) width = ResizeSize; else height = ResizeSize;
            int x = (int)Math.Round((width - InputSize) / 2.0);
            int y = (int)Math.Round((height - InputSize) / 2.0);
            ResizeCrop(image, image.Bounds(), width, height, x, y, false, chw);
        }
    }

    private CropChoice SampleResizedCrop(int width, int height, Random random)
    {
        double area = (double)width * height;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (0.08 + random.NextDouble() * (1.0 - 0.08));
            double logRatio = Math.Log(3.0 / 4.0) + random.NextDouble() * (Math.Log(4.0 / 3.0) - Math.Log(3.0 / 4.0));
            double aspect = Math.Exp(logRatio);
            int w = (int)Math.Round(Math.Sqrt(target * aspect));
            int h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return new CropChoice(random.Next(width - w + 1), random.Next(height - h + 1), w, h, false);
        }
        // Fallback as torchvision: the largest centred crop within the aspect bounds.
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < 3.0 / 4.0) ch = (int)Math.Round(width / (3.0 / 4.0));
        else if (inRatio > 4.0 / 3.0) cw = (int)Math.Round(height * (4.0 / 3.0));
        return new CropChoice((width - cw) / 2, (height - ch) / 2, cw, ch, false);
    }

    private void ResizeCrop(Image<Rgb24> image, Rectangle source, int width, int height, int left, int top, bool flip, Span<float> chw) =>
        TriangleResampler.ResizeCrop(image, source, width, height, left, top, InputSize, flip, scale, offset, chw);
}
