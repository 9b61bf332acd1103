using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>
/// ILSVRC-2012 validation images in one flat folder (<c>ILSVRC2012_val_00000001.JPEG</c> ...), labelled by the
/// ground-truth list whose line k is the synset of image k.
/// </summary>
public sealed class ImageNetValidationDataset : IImageDataset
{
    private const string Prefix = "ILSVRC2012_val_";

    private readonly string[] files;
    private readonly int[] labels;
    private readonly ImageDecoder decoder;

    public ImageNetValidationDataset(string folder, IReadOnlyList<string> groundTruthSynsets, IReadOnlyList<string>? classOrder = null, ImageDecoder? decoder = null)
    {
        this.decoder = decoder ?? ImageDecoder.Default;
        if (!Directory.Exists(folder))
            throw new DatasetException($"validation folder '{folder}' does not exist");
        Classes = classOrder ?? ImageNetClasses.Synsets;
        var index = Classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);

        var fileList = new List<string>();
        var labelList = new List<int>();
        foreach (var file in Directory.EnumerateFiles(folder).Where(ImageFolderDataset.IsImageFile).OrderBy(f => f, StringComparer.Ordinal))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || !int.TryParse(name.AsSpan(Prefix.Length), out int number) || number < 1)
                throw new DatasetException($"'{file}' is not named like an ILSVRC-2012 validation image ({Prefix}00000001.JPEG)");
            if (number > groundTruthSynsets.Count)
                throw new DatasetException($"'{file}' is image {number}, but the ground-truth list has only {groundTruthSynsets.Count} lines");
            var synset = groundTruthSynsets[number - 1];
            if (!index.TryGetValue(synset, out int label))
                throw new DatasetException($"'{file}' is labelled {synset}, which is not one of the model's classes");
            fileList.Add(file);
            labelList.Add(label);
        }
        if (fileList.Count == 0)
            throw new DatasetException($"'{folder}' holds no validation images ({Prefix}*.JPEG)");

        files = fileList.ToArray();
        labels = labelList.ToArray();
        Description = $"ImageNet validation '{folder}', {files.Length:N0} images";
    }

    public string Description { get; }
    public int Count => files.Length;
    public IReadOnlyList<string> Classes { get; }
    public int LabelOf(int index) => labels[index];
    public Image<Rgb24> Load(int index) => decoder.Decode(files[index]);
    public string NameOf(int index) => files[index];
}
