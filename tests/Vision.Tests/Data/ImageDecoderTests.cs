using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Tests.Data;

[Trait("Level", "unit")]
public class ImageDecoderTests
{
    [Theory]
    [InlineData("tabby_cat.jpg", 1728, 1152)]
    [InlineData("rocket.jpg", 640, 427)]
    [InlineData("coffee.png", 600, 400)]
    public void Real_photos_decode(string name, int width, int height)
    {
        using var image = ImageDecoder.Default.Decode(TestData.Fixture(name));
        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
    }

    [Fact]
    public void A_jpeg_of_many_scans_is_refused_before_it_is_decoded()
    {
        // A real photo's scan repeated: each copy is a pass over the whole image for a decoder that accepts it.
        var jpeg = File.ReadAllBytes(TestData.Fixture("rocket.jpg"));
        int scan = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        var head = jpeg[..scan];
        var body = jpeg[scan..^2];
        var repeated = head.Concat(Enumerable.Repeat(body, 100).SelectMany(b => b)).Concat(new byte[] { 0xFF, 0xD9 }).ToArray();

        var refusal = Assert.Throws<ImageDecodeException>(() => new ImageDecoder().Decode(repeated, "the scans"));

        Assert.True(refusal.OverLimit);
        Assert.Contains("a JPEG of 100 scans, over the limit of 64", refusal.Message);
        using var original = new ImageDecoder().Decode(jpeg, "the photo");
        Assert.Equal(640, original.Width);
    }

    [Fact]
    public void An_animated_gif_is_decoded_to_its_first_frame_only()
    {
        // 60 frames of 1000×1000: every frame within the per-buffer limit, all of them together a quarter of a gigabyte.
        using var animation = new Image<Rgba32>(1000, 1000, new Rgba32(10, 20, 30));
        for (int i = 1; i < 60; i++)
        {
            using var frame = new Image<Rgba32>(1000, 1000, new Rgba32((byte)(4 * i), 20, 30));
            animation.Frames.AddFrame(frame.Frames.RootFrame);
        }
        using var bytes = new MemoryStream();
        animation.SaveAsGif(bytes);
        using var decoded = new ImageDecoder().Decode(bytes.ToArray(), "the animation");
        Assert.Equal(1, decoded.Frames.Count);
        Assert.Equal((1000, 1000), (decoded.Width, decoded.Height));
        Assert.Equal(new Rgb24(10, 20, 30), decoded[500, 500]);
    }

    [Fact]
    public void An_empty_file_is_named_as_empty()
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Default.Decode([], "empty.jpg"));
        Assert.Contains("empty.jpg is empty (0 bytes)", error.Message);
    }

    [Fact]
    public void Text_is_not_an_image()
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Default.Decode("hello, world"u8.ToArray(), "notes.txt"));
        Assert.Contains("is not an image in a supported format", error.Message);
    }

    [Fact]
    public void A_truncated_jpeg_fails_with_a_clear_error_or_decodes_what_is_there()
    {
        var bytes = File.ReadAllBytes(TestData.Fixture("rocket.jpg"));
        try
        {
            using var image = ImageDecoder.Default.Decode(bytes[..600], "truncated.jpg");
            Assert.Equal(640, image.Width);
        }
        catch (ImageDecodeException e)
        {
            Assert.Contains("truncated.jpg", e.Message);
        }
    }

    [Fact]
    public void A_header_that_claims_too_many_pixels_fails_before_decoding()
    {
        // A valid 16×16 JPEG whose frame header is patched to claim 30000×30000 pixels.
        using var small = new Image<Rgb24>(16, 16);
        using var buffer = new MemoryStream();
        small.SaveAsJpeg(buffer);
        var bytes = buffer.ToArray();
        int sof = FindStartOfFrame(bytes);
        bytes[sof + 5] = 30000 >> 8;
        bytes[sof + 6] = 30000 & 0xFF;
        bytes[sof + 7] = 30000 >> 8;
        bytes[sof + 8] = 30000 & 0xFF;

        long before = GC.GetTotalAllocatedBytes();
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Default.Decode(bytes, "bomb.jpg"));
        long allocated = GC.GetTotalAllocatedBytes() - before;

        Assert.Contains("30000×30000", error.Message);
        Assert.Contains("megapixel limit", error.Message);
        Assert.True(allocated < 50_000_000, $"allocated {allocated:N0} bytes to reject a bomb");
    }

    [Fact]
    public void Files_over_the_byte_limit_are_refused_unread()
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxBytes = 1000 });
        var error = Assert.Throws<ImageDecodeException>(() => decoder.Decode(TestData.Fixture("rocket.jpg")));
        Assert.Contains("over the 1,000-byte limit", error.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Default.Decode("/nowhere/cat.jpg"));
        Assert.Contains("'/nowhere/cat.jpg' does not exist", error.Message);
    }

    private static int FindStartOfFrame(byte[] jpeg)
    {
        for (int i = 2; i < jpeg.Length - 1; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC2) return i;
        }
        throw new InvalidOperationException("no SOF marker");
    }
}
