namespace SqueezeNext.Vision.Data;

/// <summary>
/// A folder with one sub-folder per class (<c>root/&lt;class&gt;/*.jpg</c>), as ImageNet's <c>train/&lt;synset&gt;/</c>. Labels
/// follow <c>classOrder</c> when given (for example a model's classes, or the 1000 ImageNet synsets), otherwise the
/// sorted (ordinal) folder names.
/// </summary>
public sealed class ImageFolderDataset(string root, IReadOnlyList<string>? classOrder = null, ImageDecoder? decoder = null)
    : LabelledFilesDataset(classOrder ?? ClassFolders(root), Scan(root, classOrder), $"image folder '{root}', {{count}} images, {ClassFolders(root).Count} classes", decoder)
{
    public static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tga", ".tif", ".tiff", ".pbm"];

    public static bool IsImageFile(string path)
    {
        var name = Path.GetFileName(path);
        return !name.StartsWith('.') && ImageExtensions.Contains(Path.GetExtension(name).ToLowerInvariant());
    }

    private static List<string> ClassFolders(string root)
    {
        if (!Directory.Exists(root))
            throw new DatasetException($"dataset folder '{root}' does not exist");
        var folders = Directory.GetDirectories(root)
            .Select(d => Path.GetFileName(d)!)
            .Where(name => !name.StartsWith('.'))
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToList();
        if (folders.Count == 0)
            throw new DatasetException($"'{root}' has no class sub-folders: expected one folder per class, each holding images");
        return folders;
    }

    private static List<(string, int)> Scan(string root, IReadOnlyList<string>? classOrder)
    {
        var folders = ClassFolders(root);
        var index = IndexOf(classOrder ?? folders);
        var unknown = folders.Where(f => !index.ContainsKey(f)).ToList();
        if (unknown.Count > 0)
            throw new DatasetException(
                $"'{root}' has class folders the model does not know: {string.Join(", ", unknown.Take(5))}{(unknown.Count > 5 ? ", ..." : "")}");

        var samples = folders
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(root, folder))
                .Where(IsImageFile)
                .OrderBy(f => f, StringComparer.Ordinal)
                .Select(file => (file, index[folder])))
            .ToList();
        if (samples.Count == 0)
            throw new DatasetException($"'{root}' has class folders but no images ({string.Join(", ", ImageExtensions)})");
        return samples;
    }
}
