namespace SqueezeNext.Vision.Data;

/// <summary>
/// ILSVRC-2012 validation images in one flat folder (<c>ILSVRC2012_val_00000001.JPEG</c> ...), labelled by the
/// ground-truth list whose line k is the synset of image k.
/// </summary>
public sealed class ImageNetValidationDataset(string folder, IReadOnlyList<string> groundTruthSynsets, IReadOnlyList<string>? classOrder = null, ImageDecoder? decoder = null)
    : LabelledFilesDataset(classOrder ?? ImageNetClasses.Synsets, Scan(folder, groundTruthSynsets, classOrder ?? ImageNetClasses.Synsets),
        $"ImageNet validation '{folder}', {{count}} images", decoder)
{
    private const string Prefix = "ILSVRC2012_val_";

    private static List<(string, int)> Scan(string folder, IReadOnlyList<string> groundTruthSynsets, IReadOnlyList<string> classes)
    {
        if (!Directory.Exists(folder))
            throw new DatasetException($"validation folder '{folder}' does not exist");
        var index = IndexOf(classes);
        var samples = new List<(string, int)>();
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
            samples.Add((file, label));
        }
        if (samples.Count == 0)
            throw new DatasetException($"'{folder}' holds no validation images ({Prefix}*.JPEG)");
        return samples;
    }
}
