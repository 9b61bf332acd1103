using Size = SixLabors.ImageSharp.Size;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SqueezeNext.Vision.Tests.Data;

/// <summary>
/// The pre-processor resizes and crops in one pass of its own; these hold it to what it replaced: ImageSharp's
/// triangle resize to a whole image of bytes, then the crop.
/// </summary>
[Trait("Level", "unit")]
public class TriangleResamplerTests
{
    [Theory]
    [InlineData(500, 375)]     // ImageNet's typical photo: shrinks by 1.95 and 1.46
    [InlineData(375, 500)]
    [InlineData(1728, 1152)]   // a camera photo: wide kernels, pixels in several buffers
    [InlineData(256, 256)]     // no resampling at all
    [InlineData(257, 255)]     // slightly down on one axis, up on the other
    [InlineData(90, 60)]       // enlarged
    [InlineData(1000, 40)]     // extreme aspect
    public void The_TF_evaluation_transform_equals_ImageSharps_resize_then_crop(int width, int height)
    {
        var preprocessor = new ImagePreprocessor(PreprocessingKind.TfSeed, 227, horizontalFlip: true);
        using var image = Noise(width, height, seed: width * 7 + height);
        var actual = new float[preprocessor.ValuesPerImage];
        preprocessor.Evaluate(image, actual);

        using var resized = image.Clone(c => c.Resize(new ResizeOptions { Size = new Size(256, 256), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle }));
        var expected = Crop(resized, 15, 15, 227, flip: false);

        AssertLevelsMatch(expected, Levels(actual, ImagePreprocessor.TfMeanRgb, [1f, 1f, 1f]));
    }

    [Fact]
    public void Training_crops_and_mirrors_equal_ImageSharps_resize_then_crop()
    {
        var preprocessor = new ImagePreprocessor(PreprocessingKind.TfSeed, 227, horizontalFlip: true);
        using var image = Noise(640, 427, seed: 3);
        using var resized = image.Clone(c => c.Resize(new ResizeOptions { Size = new Size(256, 256), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle }));
        var actual = new float[preprocessor.ValuesPerImage];
        var random = new Random(11);
        bool sawFlip = false, sawUnflipped = false;
        for (int i = 0; i < 8; i++)
        {
            var crop = preprocessor.Train(image, random, actual);
            if (crop.Flip) sawFlip = true; else sawUnflipped = true;
            AssertLevelsMatch(Crop(resized, crop.X, crop.Y, 227, crop.Flip), Levels(actual, ImagePreprocessor.TfMeanRgb, [1f, 1f, 1f]));
        }
        Assert.True(sawFlip && sawUnflipped);
    }

    [Theory]
    [InlineData(500, 375)]
    [InlineData(300, 640)]
    [InlineData(150, 120)]
    public void The_torchvision_transforms_equal_ImageSharps_resize_then_crop(int width, int height)
    {
        var preprocessor = new ImagePreprocessor(PreprocessingKind.Torchvision, 224, horizontalFlip: true);
        using var image = Noise(width, height, seed: 5);
        var actual = new float[preprocessor.ValuesPerImage];
        var std = ImagePreprocessor.TorchvisionStdRgb;
        float[] scale = [1f / (255f * std[0]), 1f / (255f * std[1]), 1f / (255f * std[2])];
        float[] mean = [.. ImagePreprocessor.TorchvisionMeanRgb.Select((m, c) => m * 255f)];

        preprocessor.Evaluate(image, actual);
        double ratio = 256.0 / Math.Min(width, height);
        int resizedWidth = width <= height ? 256 : (int)(width * ratio), resizedHeight = width <= height ? (int)(height * ratio) : 256;
        using (var resized = image.Clone(c => c.Resize(new ResizeOptions { Size = new Size(resizedWidth, resizedHeight), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle })))
        {
            var expected = Crop(resized, (int)Math.Round((resizedWidth - 224) / 2.0), (int)Math.Round((resizedHeight - 224) / 2.0), 224, flip: false);
            AssertLevelsMatch(expected, Levels(actual, mean, scale));
        }

        var random = new Random(2);
        for (int i = 0; i < 4; i++)
        {
            var crop = preprocessor.Train(image, random, actual);
            using var cropped = image.Clone(c => c.Crop(new Rectangle(crop.X, crop.Y, crop.Width, crop.Height))
                .Resize(new ResizeOptions { Size = new Size(224, 224), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle }));
            AssertLevelsMatch(Crop(cropped, 0, 0, 224, crop.Flip), Levels(actual, mean, scale));
        }
    }

    private static Image<Rgb24> Noise(int width, int height, int seed)
    {
        // Smooth structure plus noise: rounding boundaries are met about as often as in a photo.
        var random = new Random(seed);
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)((x * 255 / width + random.Next(64)) % 256), (byte)random.Next(256), (byte)((y * 3 + random.Next(8)) % 256));
        return image;
    }

    /// <summary>The crop's levels in CHW order, mirrored as the transform mirrors.</summary>
    private static float[] Crop(Image<Rgb24> image, int left, int top, int size, bool flip)
    {
        var levels = new float[3 * size * size];
        int plane = size * size;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                var p = image[left + (flip ? size - 1 - x : x), top + y];
                levels[y * size + x] = p.R;
                levels[plane + y * size + x] = p.G;
                levels[2 * plane + y * size + x] = p.B;
            }
        return levels;
    }

    private static float[] Levels(float[] values, float[] meanLevels, float[] scale)
    {
        int plane = values.Length / 3;
        return [.. values.Select((v, i) => MathF.Round(v / scale[i / plane] + meanLevels[i / plane], 2))];
    }

    private static void AssertLevelsMatch(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float difference = Math.Abs(expected[i] - actual[i]);
            Assert.True(difference <= 1.01f, $"value {i}: {actual[i]} where ImageSharp gives {expected[i]}");
            if (difference > 0.01f) differing++;
        }
        // Only values on a rounding boundary may differ (the two sum the same weights in another order).
        Assert.True(differing <= expected.Length / 1000, $"{differing} of {expected.Length} values differ by a level");
    }
}
