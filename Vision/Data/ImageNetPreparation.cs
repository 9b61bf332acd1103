using System.Formats.Tar;
using System.Text.RegularExpressions;

namespace SqueezeNext.Vision.Data;

/// <summary>What <see cref="ImageNetPreparation"/> did.</summary>
public sealed record ImageNetPreparationReport(
    int TrainSynsets,
    long TrainImages,
    int SynsetsSkippedAsDone,
    long ValidationImages,
    IReadOnlyList<string> Warnings);

/// <summary>
/// Builds the ImageNet folder layout from the downloaded ILSVRC-2012 archives, as the TF port's scripts did:
/// <c>ILSVRC2012_img_train.tar</c> (one tar per synset) becomes <c>train/&lt;synset&gt;/*.JPEG</c> and
/// <c>ILSVRC2012_img_val.tar</c> (flat) becomes <c>val/&lt;synset&gt;/*.JPEG</c> through the ground-truth list. Each
/// synset is extracted into a hidden folder and renamed into place with a count marker, so an interrupted run resumes
/// where it stopped; counts are checked against the archive and the official totals.
/// </summary>
public sealed partial class ImageNetPreparation(Action<string, long, long>? progress = null)
{
    public const string TrainArchive = "ILSVRC2012_img_train.tar";
    public const string ValidationArchive = "ILSVRC2012_img_val.tar";
    public const int OfficialSynsets = 1000;
    public const long OfficialTrainImages = 1_281_167;
    public const int OfficialValidationImages = 50_000;
    private const string CompleteMarker = ".complete";

    [GeneratedRegex(@"^n\d{8}$")]
    private static partial Regex SynsetPattern();

    [GeneratedRegex(@"^ILSVRC2012_val_(\d{8})\.JPEG$")]
    private static partial Regex ValidationPattern();

    public ImageNetPreparationReport Prepare(string sourceDirectory, string outputDirectory, IReadOnlyList<string>? groundTruth = null,
        CancellationToken cancellationToken = default)
    {
        var trainArchive = Path.Combine(sourceDirectory, TrainArchive);
        var validationArchive = Path.Combine(sourceDirectory, ValidationArchive);
        if (!Directory.Exists(sourceDirectory))
            throw new DatasetException($"source folder '{sourceDirectory}' does not exist");
        if (!File.Exists(trainArchive) && !File.Exists(validationArchive))
            throw new DatasetException($"'{sourceDirectory}' holds neither {TrainArchive} nor {ValidationArchive}");

        var warnings = new List<string>();
        int synsets = 0, skipped = 0;
        long trainImages = 0, validationImages = 0;
        if (File.Exists(trainArchive))
            (synsets, skipped, trainImages) = PrepareTrain(trainArchive, Path.Combine(outputDirectory, "train"), warnings, cancellationToken);
        else
            warnings.Add($"no {TrainArchive} in '{sourceDirectory}': the training split was not prepared");

        if (File.Exists(validationArchive))
            validationImages = PrepareValidation(validationArchive, Path.Combine(outputDirectory, "val"), groundTruth ?? ImageNetClasses.ValidationGroundTruth, warnings, cancellationToken);
        else
            warnings.Add($"no {ValidationArchive} in '{sourceDirectory}': the validation split was not prepared");

        if (File.Exists(trainArchive) && (synsets != OfficialSynsets || trainImages != OfficialTrainImages))
            warnings.Add($"the training split has {synsets:N0} synsets and {trainImages:N0} images; ILSVRC-2012 has {OfficialSynsets:N0} and {OfficialTrainImages:N0}");
        if (File.Exists(validationArchive) && validationImages != OfficialValidationImages)
            warnings.Add($"the validation split has {validationImages:N0} images; ILSVRC-2012 has {OfficialValidationImages:N0}");
        return new ImageNetPreparationReport(synsets, trainImages, skipped, validationImages, warnings);
    }

    private (int Synsets, int Skipped, long Images) PrepareTrain(string archive, string trainDirectory, List<string> warnings, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(trainDirectory);
        long total = CountEntries(archive);
        int synsets = 0, skipped = 0;
        long images = 0, done = 0;
        using var stream = File.OpenRead(archive);
        foreach (var entry in RegularFiles(stream, cancellationToken))
        {
            var name = Path.GetFileName(entry.Name);
            var synset = Path.GetFileNameWithoutExtension(name);
            if (!name.EndsWith(".tar", StringComparison.Ordinal) || !SynsetPattern().IsMatch(synset))
            {
                warnings.Add($"{TrainArchive}: ignored '{entry.Name}' (not a synset tar such as n01440764.tar)");
                continue;
            }

            var target = Path.Combine(trainDirectory, synset);
            var marker = Path.Combine(target, CompleteMarker);
            if (File.Exists(marker) && long.TryParse(File.ReadAllText(marker), out var count))
            {
                skipped++;
            }
            else
            {
                count = ExtractSynset(entry.DataStream!, synset, trainDirectory, target, cancellationToken);
            }
            synsets++;
            images += count;
            progress?.Invoke($"train {synset}", ++done, total);
        }
        return (synsets, skipped, images);
    }

    private static long ExtractSynset(Stream synsetTar, string synset, string trainDirectory, string target, CancellationToken cancellationToken)
    {
        var partial = Path.Combine(trainDirectory, $".{synset}.partial");
        if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        Directory.CreateDirectory(partial);
        long expected = 0, written = 0;
        foreach (var image in RegularFiles(synsetTar, cancellationToken))
        {
            expected++;
            // Only the file name is used, so an entry such as "../../x" cannot escape the output folder.
            var fileName = Path.GetFileName(image.Name);
            if (fileName.Length == 0 || fileName.StartsWith('.')) continue;
            using var output = File.Create(Path.Combine(partial, fileName));
            image.DataStream?.CopyTo(output);
            written++;
        }
        if (written != expected)
            throw new DatasetException($"{synset}.tar holds {expected} files but {written} were written");
        File.WriteAllText(Path.Combine(partial, CompleteMarker), written.ToString());
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.Move(partial, target);
        return written;
    }

    private long PrepareValidation(string archive, string validationDirectory, IReadOnlyList<string> groundTruth, List<string> warnings, CancellationToken cancellationToken)
    {
        var marker = Path.Combine(validationDirectory, CompleteMarker);
        if (File.Exists(marker) && long.TryParse(File.ReadAllText(marker), out var done))
        {
            progress?.Invoke("val (already prepared)", 1, 1);
            return done;
        }
        Directory.CreateDirectory(validationDirectory);
        long total = CountEntries(archive);
        long images = 0, seen = 0;
        using var stream = File.OpenRead(archive);
        foreach (var entry in RegularFiles(stream, cancellationToken))
        {
            seen++;
            var name = Path.GetFileName(entry.Name);
            var match = ValidationPattern().Match(name);
            if (!match.Success)
            {
                warnings.Add($"{ValidationArchive}: ignored '{entry.Name}' (not ILSVRC2012_val_NNNNNNNN.JPEG)");
                continue;
            }
            int number = int.Parse(match.Groups[1].Value);
            if (number < 1 || number > groundTruth.Count)
                throw new DatasetException($"{ValidationArchive}: '{name}' has no line in the ground-truth list ({groundTruth.Count} lines)");
            var folder = Path.Combine(validationDirectory, groundTruth[number - 1]);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, name);
            if (!File.Exists(path) || new FileInfo(path).Length != entry.Length)
            {
                var temporary = path + ".partial";
                using (var output = File.Create(temporary))
                    entry.DataStream?.CopyTo(output);
                File.Move(temporary, path, overwrite: true);
            }
            images++;
            if (seen % 100 == 0 || seen == total) progress?.Invoke("val", seen, total);
        }
        File.WriteAllText(marker, images.ToString());
        return images;
    }

    private static long CountEntries(string archive)
    {
        using var stream = File.OpenRead(archive);
        try
        {
            return RegularFiles(stream, CancellationToken.None).LongCount();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DatasetException($"'{archive}' is not a readable tar archive: {e.Message}");
        }
    }

    /// <summary>The archive's files, streamed one entry at a time (an entry's data is readable until the next is read).</summary>
    private static IEnumerable<TarEntry> RegularFiles(Stream archive, CancellationToken cancellationToken)
    {
        using var reader = new TarReader(archive, leaveOpen: true);
        while (reader.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile) yield return entry;
        }
    }
}
