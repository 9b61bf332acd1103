using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SqueezeNext.Vision.Tests.Data;

[Trait("Level", "unit")]
public class PreprocessingTests
{
    private static readonly ImagePreprocessor Tf = new(PreprocessingKind.TfSeed, 227, horizontalFlip: true);

    [Fact]
    public void The_TF_pipeline_resizes_to_256_and_evaluates_on_rows_and_columns_15_to_242()
    {
        Assert.Equal(256, Tf.ResizeSize);
        Assert.Equal(15, Tf.EvalOffset);

        // A 256×256 input is not resampled, so the crop reads pixel (x, y) = (x + 15, y + 15) exactly.
        using var image = TestData.Gradient(256, 256);
        var chw = new float[Tf.ValuesPerImage];
        Tf.Evaluate(image, chw);

        int plane = 227 * 227;
        Assert.Equal(15 - 123f, chw[0]);                         // R at (0, 0) is x = 15, minus the R mean
        Assert.Equal(15 - 117f, chw[plane]);                     // G at (0, 0) is y = 15, minus the G mean
        Assert.Equal(7 - 104f, chw[2 * plane]);                  // B is constant 7, minus the B mean
        Assert.Equal(241 - 123f, chw[226]);                      // last column read is 241
        Assert.Equal(241 - 117f, chw[plane + 226 * 227]);        // last row read is 241
    }

    [Fact]
    public void Values_stay_on_the_0_to_255_scale_minus_the_RGB_mean()
    {
        using var image = new Image<Rgb24>(256, 256, new Rgb24(255, 0, 128));
        var chw = new float[Tf.ValuesPerImage];
        Tf.Evaluate(image, chw);

        int plane = 227 * 227;
        Assert.All(chw.AsSpan(0, plane).ToArray(), v => Assert.Equal(255 - 123f, v));
        Assert.All(chw.AsSpan(plane, plane).ToArray(), v => Assert.Equal(0 - 117f, v));
        Assert.All(chw.AsSpan(2 * plane, plane).ToArray(), v => Assert.Equal(128 - 104f, v));
    }

    [Fact]
    public void Training_crops_at_offsets_0_to_29_and_mirrors_about_half_the_time()
    {
        using var image = TestData.Gradient(256, 256);
        var chw = new float[Tf.ValuesPerImage];
        var random = new Random(5);
        var offsets = new HashSet<int>();
        int flips = 0;
        const int samples = 400;
        for (int i = 0; i < samples; i++)
        {
            var crop = Tf.Train(image, random, chw);
            Assert.InRange(crop.X, 0, 29);
            Assert.InRange(crop.Y, 0, 29);
            offsets.Add(crop.X);
            // R encodes the source column: mirrored crops read right to left.
            float first = chw[0] + 123, last = chw[226] + 123;
            Assert.Equal(crop.Flip ? crop.X + 226 : crop.X, first);
            Assert.Equal(crop.Flip ? crop.X : crop.X + 226, last);
            Assert.Equal(crop.Y, chw[227 * 227] + 117);
            if (crop.Flip) flips++;
        }
        Assert.Equal(30, offsets.Count);
        Assert.InRange(flips, samples * 0.4, samples * 0.6);
    }

    [Fact]
    public void Without_flip_no_sample_is_mirrored()
    {
        var noFlip = new ImagePreprocessor(PreprocessingKind.TfSeed, 227, horizontalFlip: false);
        using var image = TestData.Gradient(256, 256);
        var chw = new float[noFlip.ValuesPerImage];
        var random = new Random(6);
        for (int i = 0; i < 50; i++) Assert.False(noFlip.Train(image, random, chw).Flip);
    }

    [Fact]
    public void Any_image_size_is_resized_to_256_square_ignoring_aspect()
    {
        using var wide = TestData.Gradient(512, 128);
        var chw = new float[Tf.ValuesPerImage];
        Tf.Evaluate(wide, chw);
        // Column 15 of a 512→256 resize is near source column 31; row 15 of a 128→256 resize near source row 7.
        Assert.InRange(chw[0] + 123, 29, 33);
        Assert.InRange(chw[227 * 227] + 117, 6, 9);
    }

    [Fact]
    public void Small_inputs_keep_the_256_to_227_ratio()
    {
        var small = new ImagePreprocessor(PreprocessingKind.TfSeed, 28, true);
        Assert.Equal(32, small.ResizeSize);
        Assert.Equal(2, small.EvalOffset);
    }

    [Fact]
    public void The_torchvision_pipeline_centre_crops_224_from_a_256_short_side_and_normalises()
    {
        var torchvision = new ImagePreprocessor(PreprocessingKind.Torchvision, 224, true);
        Assert.Equal(256, torchvision.ResizeSize);
        using var image = new Image<Rgb24>(400, 300, new Rgb24(255, 128, 0));
        var chw = new float[torchvision.ValuesPerImage];
        torchvision.Evaluate(image, chw);

        int plane = 224 * 224;
        Assert.Equal((1f - 0.485f) / 0.229f, chw[0], 4);
        Assert.Equal((128 / 255f - 0.456f) / 0.224f, chw[plane], 4);
        Assert.Equal((0f - 0.406f) / 0.225f, chw[2 * plane], 4);

        var random = new Random(1);
        for (int i = 0; i < 20; i++)
        {
            var crop = torchvision.Train(image, random, chw);
            Assert.InRange(crop.Width * crop.Height, 0.08 * 400 * 300 * 0.95, 400 * 300);
        }
    }

    [Theory]
    [InlineData("chelsea-gray.jpg")]
    [InlineData("chelsea-cmyk.jpg")]
    [InlineData("chelsea-palette.png")]
    public void Gray_cmyk_and_palette_images_are_converted_to_rgb(string fixture)
    {
        using var reference = ImageDecoder.Default.Decode(TestData.Fixture("chelsea.png"));
        using var image = ImageDecoder.Default.Decode(TestData.Fixture(fixture));

        Assert.Equal(90, image.Width);
        Assert.Equal(60, image.Height);
        // Close to the original colours at the centre (not inverted CMYK, not a single gray channel for color files).
        using var small = reference.Clone(c => c.Resize(90, 60));
        var expected = small[45, 30];
        var actual = image[45, 30];
        int tolerance = fixture.Contains("gray", StringComparison.Ordinal) ? 60 : 40;
        Assert.InRange(actual.R, expected.R - tolerance, expected.R + tolerance);
        Assert.InRange(actual.G, expected.G - tolerance, expected.G + tolerance);
    }

    [Fact]
    public void Exif_orientation_is_applied()
    {
        // Stored 60 wide and 90 high with orientation 6 ("rotate 90° clockwise to display").
        using var stored = TestData.Gradient(60, 90);
        stored.Metadata.ExifProfile = new ExifProfile();
        stored.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var buffer = new MemoryStream();
        stored.SaveAsJpeg(buffer);

        using var image = ImageDecoder.Default.Decode(buffer.ToArray(), "rotated.jpg");

        Assert.Equal(90, image.Width);
        Assert.Equal(60, image.Height);
    }
}
