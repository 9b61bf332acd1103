using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Tests.Data;

/// <summary>JPEGs through libjpeg-turbo: in full, and at a reduced size for a transform that shrinks them anyway.</summary>
[Trait("Level", "unit")]
public class TurboJpegDecodingTests
{
    private static readonly ImagePreprocessor Evaluation = ImagePreprocessor.For(ConfigurationCatalog.Get("v_1_0_SqNxt_23"));

    public TurboJpegDecodingTests()
    {
        Assert.True(ImageDecoder.JpegDecoder == "libjpeg-turbo", "libturbojpeg.so.0 cannot be loaded: install libturbojpeg0 (scripts/test.sh does)");
    }

    [Theory]
    [InlineData("tabby_cat.jpg")]
    [InlineData("rocket.jpg")]
    [InlineData("chelsea-gray.jpg")]
    public void A_jpeg_decodes_to_the_pixels_imagesharp_gives_within_rounding(string name)
    {
        var bytes = File.ReadAllBytes(TestData.Fixture(name));
        using var turbo = ImageDecoder.Default.Decode(bytes, name);
        using var imageSharp = Image.Load<Rgb24>(bytes);

        Assert.Equal((imageSharp.Width, imageSharp.Height), (turbo.Width, turbo.Height));
        // Two correct decoders differ in IDCT rounding and chroma upsampling (measured: mean 0.02 to 0.04, at most 3).
        var (mean, largest) = Differences(turbo, imageSharp);
        Assert.True(mean < 0.25, $"mean difference {mean:F2} levels");
        Assert.True(largest <= 8, $"largest difference {largest} levels");
    }

    [Theory]
    [InlineData("tabby_cat.jpg", 256, 432, 288)]
    [InlineData("rocket.jpg", 256, 640, 427)]
    [InlineData("rocket.jpg", 200, 320, 214)]
    [InlineData("rocket.jpg", 100, 160, 107)]
    public void Reduced_decoding_takes_the_smallest_reduction_that_keeps_both_sides_long_enough(string name, int minimumSide, int width, int height)
    {
        using var image = ImageDecoder.Default.Decode(File.ReadAllBytes(TestData.Fixture(name)), name, minimumSide);

        Assert.Equal((width, height), (image.Width, image.Height));
    }

    [Fact]
    public void Reduced_decoding_changes_the_network_input_little()
    {
        var bytes = File.ReadAllBytes(TestData.Fixture("tabby_cat.jpg"));
        var full = Preprocess(bytes, minimumSide: null);
        var reduced = Preprocess(bytes, Evaluation.EvaluationMinimumSide);

        // The reduction filters differently from the resize, so the inputs differ where the photo has fine detail
        // (measured: 0.86 levels of 0 to 255 on average).
        double mean = full.Zip(reduced, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mean < 2, $"mean difference {mean:F2} levels");
    }

    [Fact]
    public void A_cmyk_jpeg_which_libjpeg_turbo_cannot_convert_is_decoded_by_imagesharp()
    {
        var bytes = File.ReadAllBytes(TestData.Fixture("chelsea-cmyk.jpg"));

        using var reduced = ImageDecoder.Default.Decode(bytes, "chelsea-cmyk.jpg", 100);
        using var imageSharp = Image.Load<Rgb24>(bytes);

        Assert.Equal((imageSharp.Width, imageSharp.Height), (reduced.Width, reduced.Height));
    }

    [Fact]
    public void A_truncated_jpeg_is_still_refused_with_a_clear_error()
    {
        var bytes = File.ReadAllBytes(TestData.Fixture("rocket.jpg"))[..200];

        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Default.Decode(bytes, "cut.jpg", 256));

        Assert.Contains("cut.jpg", error.Message);
    }

    [Fact]
    public void The_exif_orientation_is_applied_after_a_reduced_decode()
    {
        // rocket.jpg marked "rotate 90° clockwise to display" (orientation 6): 640×427 stored, 427×640 shown.
        using var source = Image.Load<Rgb24>(File.ReadAllBytes(TestData.Fixture("rocket.jpg")));
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var stream = new MemoryStream();
        source.SaveAsJpeg(stream);

        using var image = ImageDecoder.Default.Decode(stream.ToArray(), "rotated.jpg", 200);

        Assert.Equal((214, 320), (image.Width, image.Height));
    }

    private static float[] Preprocess(byte[] bytes, int? minimumSide)
    {
        using var image = ImageDecoder.Default.Decode(bytes, "photo", minimumSide);
        var input = new float[Evaluation.ValuesPerImage];
        Evaluation.Evaluate(image, input);
        return input;
    }

    private static (double Mean, int Largest) Differences(Image<Rgb24> a, Image<Rgb24> b)
    {
        long total = 0;
        int largest = 0;
        for (int y = 0; y < a.Height; y++)
        {
            for (int x = 0; x < a.Width; x++)
            {
                Rgb24 p = a[x, y], q = b[x, y];
                foreach (int d in new[] { Math.Abs(p.R - q.R), Math.Abs(p.G - q.G), Math.Abs(p.B - q.B) })
                {
                    total += d;
                    largest = Math.Max(largest, d);
                }
            }
        }
        return ((double)total / (3L * a.Width * a.Height), largest);
    }
}
