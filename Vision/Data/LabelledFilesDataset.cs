using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>A dataset of image files with known labels; subclasses decide how files and labels are found.</summary>
public abstract class LabelledFilesDataset : IImageDataset
{
    private readonly string[] files;
    private readonly int[] labels;
    private readonly ImageDecoder decoder;

    protected LabelledFilesDataset(IReadOnlyList<string> classes, IEnumerable<(string File, int Label)> samples, string description, ImageDecoder? decoder)
    {
        var list = samples.ToArray();
        files = list.Select(s => s.File).ToArray();
        labels = list.Select(s => s.Label).ToArray();
        Classes = classes;
        Description = description.Replace("{count}", files.Length.ToString("N0"), StringComparison.Ordinal);
        this.decoder = decoder ?? ImageDecoder.Default;
    }

    public string Description { get; }
    public int Count => files.Length;
    public IReadOnlyList<string> Classes { get; }
    public int LabelOf(int index) => labels[index];
    public Image<Rgb24> Load(int index) => decoder.Decode(files[index]);
    public string NameOf(int index) => files[index];

    /// <summary>Class name → label index for <paramref name="classes"/>.</summary>
    protected static Dictionary<string, int> IndexOf(IReadOnlyList<string> classes) =>
        classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
}
