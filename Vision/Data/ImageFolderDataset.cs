using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SqueezeNext.Vision.Data;

/// <summary>
/// A folder with one sub-folder per class (<c>root/&lt;class&gt;/*.jpg</c>), as ImageNet's <c>train/&lt;synset&gt;/</c>. Labels
/// follow <c>classOrder</c> when given (for example a model's classes, or the 1000 ImageNet synsets), otherwise the
/// sorted (ordinal) folder names.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    public static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tga", ".tif", ".tiff", ".pbm"];

    private readonly string[] files;
    private readonly int[] labels;
    private readonly ImageDecoder decoder;

    public ImageFolderDataset(string root, IReadOnlyList<string>? classOrder = null, ImageDecoder? decoder = null)
    {
        this.decoder = decoder ?? ImageDecoder.Default;
        if (!Directory.Exists(root))
            throw new DatasetException($"dataset folder '{root}' does not exist");
        var folders = Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .Where(name => name is not null && !name.StartsWith('.'))
            .Select(name => name!)
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToList();
        if (folders.Count == 0)
            throw new DatasetException($"'{root}' has no class sub-folders: expected one folder per class, each holding images");

        Classes = classOrder ?? folders;
        var index = Classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var unknown = folders.Where(f => !index.ContainsKey(f)).ToList();
        if (unknown.Count > 0)
            throw new DatasetException(
                $"'{root}' has class folders the model does not know: {string.Join(", ", unknown.Take(5))}{(unknown.Count > 5 ? ", ..." : "")}");

        var fileList = new List<string>();
        var labelList = new List<int>();
        foreach (var folder in folders)
        {
            var images = Directory.EnumerateFiles(Path.Combine(root, folder))
                .Where(IsImageFile)
                .OrderBy(f => f, StringComparer.Ordinal);
            foreach (var image in images)
            {
                fileList.Add(image);
                labelList.Add(index[folder]);
            }
        }
        if (fileList.Count == 0)
            throw new DatasetException($"'{root}' has class folders but no images ({string.Join(", ", ImageExtensions)})");

        files = fileList.ToArray();
        labels = labelList.ToArray();
        Description = $"image folder '{root}', {files.Length:N0} images, {folders.Count} classes";
    }

    public string Description { get; }
    public int Count => files.Length;
    public IReadOnlyList<string> Classes { get; }
    public int LabelOf(int index) => labels[index];
    public Image<Rgb24> Load(int index) => decoder.Decode(files[index]);
    public string NameOf(int index) => files[index];

    public static bool IsImageFile(string path)
    {
        var name = Path.GetFileName(path);
        return !name.StartsWith('.') && ImageExtensions.Contains(Path.GetExtension(name).ToLowerInvariant());
    }
}
