using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SqueezeNext.Vision.Data.Import;

/// <summary>
/// Turns an uploaded archive, a folder or the ILSVRC-2012 archives into a dataset folder the engine reads: extracted
/// into staging under the rules of <see cref="ArchiveExtractor"/>, laid out (class folders, train/ and val/, or IDX
/// files), every image decoded with the limits classification uses, exact duplicates and empty classes left out, a
/// seeded stratified validation split made where the archive has none, thumbnails drawn, and a manifest whose SHA-256
/// is the dataset's digest. Everything is written under <c>staging</c>; the caller renames <see cref="DatasetFolder"/>
/// into place, so a crash never leaves half a dataset visible.
/// </summary>
public sealed partial class DatasetImporter(ImportOptions options, Action<ImportProgress>? progress = null)
{
    public const string ManifestFile = "manifest.tsv";
    public const string ThumbnailFolder = ".thumbnails";
    private const string ExtractFolder = "extract";

    private static readonly string[] ValidationNames = ["val", "validation"];

    [GeneratedRegex(@"^ILSVRC2012_val_(\d{8})\.JPEG$")]
    private static partial Regex ImageNetValidationName();

    /// <summary>Where the finished dataset is inside a staging folder.</summary>
    public static string DatasetFolder(string staging) => Path.Combine(staging, "dataset");

    public ImportedDataset ImportArchive(string archive, string staging, CancellationToken cancellationToken) =>
        Import(staging, extractTo => new ArchiveExtractor(options, progress).Extract(archive, extractTo, cancellationToken), cancellationToken);

    public ImportedDataset ImportFolder(string folder, string staging, CancellationToken cancellationToken) =>
        Import(staging, extractTo => new ArchiveExtractor(options, progress).CopyFolder(folder, extractTo, cancellationToken), cancellationToken);

    /// <summary>The ILSVRC-2012 archives in <paramref name="folder"/>, unpacked by <see cref="ImageNetPreparation"/>, then validated like any upload.</summary>
    public ImportedDataset ImportImageNet(string folder, string staging, CancellationToken cancellationToken) =>
        Import(staging, extractTo =>
        {
            new ImageNetPreparation((_, done, total) => progress?.Invoke(new ImportProgress("extracting", done, total)))
                .Prepare(folder, extractTo, cancellationToken: cancellationToken);
            return new ArchiveExtractor(options with { MaxEntries = int.MaxValue }, progress).Adopt(extractTo, cancellationToken);
        }, cancellationToken);

    private ImportedDataset Import(string staging, Func<string, Extraction> materialise, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(staging);
        var extractRoot = Path.Combine(staging, ExtractFolder);
        var extraction = materialise(extractRoot);
        var output = DatasetFolder(staging);
        Directory.CreateDirectory(output);
        var skipped = new List<SkippedFile>(extraction.Skipped);

        var layout = Layout.Of(extraction, extractRoot, skipped);
        ImportedDataset dataset = layout.IsIdx
            ? WriteIdx(layout, extractRoot, output, skipped, extraction)
            : WriteImages(layout, extractRoot, output, skipped, extraction, cancellationToken);
        Directory.Delete(extractRoot, recursive: true);
        return dataset;
    }

    private ImportedDataset WriteImages(Layout layout, string extractRoot, string output, List<SkippedFile> skipped, Extraction extraction,
        CancellationToken cancellationToken)
    {
        var decoder = new ImageDecoder(options.Images);
        var candidates = layout.Images;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads), CancellationToken = cancellationToken };

        // Hashed first, so that copies of one file are decoded once: a hostile archive may repeat a costly image.
        var hashed = new (string Hash, long Bytes)[candidates.Count];
        Parallel.For(0, candidates.Count, parallel, i =>
        {
            using var file = File.OpenRead(Path.Combine(extractRoot, candidates[i].Source));
            hashed[i] = (Convert.ToHexStringLower(SHA256.HashData(file)), file.Length);
        });
        // Exact duplicates: the first in path order stays (training before validation).
        var firsts = new List<(Candidate Candidate, string Hash, long Bytes)>();
        foreach (var group in candidates.Select((c, i) => (Candidate: c, hashed[i].Hash, hashed[i].Bytes))
                     .OrderBy(c => c.Candidate.Split, StringComparer.Ordinal).ThenBy(c => c.Candidate.Source, StringComparer.Ordinal).GroupBy(c => c.Hash))
        {
            var first = group.First();
            firsts.Add(first);
            skipped.AddRange(group.Skip(1).Select(d => new SkippedFile(d.Candidate.Source, SkipReasons.Duplicate, $"the same bytes as '{first.Candidate.Source}', which was kept")));
        }

        var decoded = new bool[firsts.Count];
        var failures = new ConcurrentBag<SkippedFile>();
        long done = 0;
        Parallel.For(0, firsts.Count, parallel, i =>
        {
            var source = firsts[i].Candidate.Source;
            try
            {
                // The smallest decode libjpeg-turbo offers still reads all of a JPEG's data, so damage is found at a fraction of the cost.
                using var image = decoder.DecodeStrictly(File.ReadAllBytes(Path.Combine(extractRoot, source)), $"'{source}'", minimumSide: 8);
                decoded[i] = true;
            }
            catch (ImageDecodeException e)
            {
                failures.Add(new SkippedFile(source, e.OverLimit ? SkipReasons.OverLimits : SkipReasons.Undecodable, e.Message));
            }
            long now = Interlocked.Increment(ref done);
            if (now % 200 == 0) progress?.Invoke(new ImportProgress("validating", now, firsts.Count));
        });
        progress?.Invoke(new ImportProgress("validating", firsts.Count, firsts.Count));
        skipped.AddRange(failures);
        var kept = firsts.Where((_, i) => decoded[i]).ToList();

        var trainClasses = kept.Where(k => k.Candidate.Split != "val").Select(k => k.Candidate.Class).ToHashSet(StringComparer.Ordinal);
        var emptyClasses = layout.DeclaredClasses.Where(c => !trainClasses.Contains(c)).Order(StringComparer.Ordinal).ToList();
        if (layout.HasSplits)
        {
            foreach (var orphan in kept.Where(k => k.Candidate.Split == "val" && !trainClasses.Contains(k.Candidate.Class)).ToList())
            {
                kept.Remove(orphan);
                skipped.Add(new SkippedFile(orphan.Candidate.Source, SkipReasons.UnknownClass, $"class '{orphan.Candidate.Class}' has no training images"));
            }
        }
        if (kept.Count == 0)
            throw new ImportRefusedException(ImportRefusal.NoImages, "the archive holds no image the import could use" + (skipped.Count > 0 ? $" ({skipped.Count:N0} files left out)" : ""));
        var classNames = trainClasses.Order(StringComparer.Ordinal).ToList();

        bool makeSplit = !layout.HasSplits && options.ValidationFraction > 0;
        var placed = kept.Select(k => (k.Candidate, k.Hash, k.Bytes, Split: makeSplit ? "train" : k.Candidate.Split)).ToList();
        if (makeSplit)
        {
            var byClass = placed.Select((p, i) => (p.Candidate, i)).ToLookup(x => x.Candidate.Class, StringComparer.Ordinal);
            for (int c = 0; c < classNames.Count; c++)
            {
                var members = byClass[classNames[c]].OrderBy(x => x.Candidate.Name, StringComparer.Ordinal).Select(x => x.i).ToList();
                int validation = members.Count < 2 ? 0 : Math.Clamp((int)Math.Round(members.Count * options.ValidationFraction), 1, members.Count - 1);
                var order = DeterministicRandom.Permutation(members.Count, options.Seed, c);
                foreach (int j in order.Take(validation))
                    placed[members[j]] = placed[members[j]] with { Split = "val" };
            }
        }

        var manifest = new List<(string Path, string Hash, long Bytes)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var image in placed.OrderBy(p => p.Candidate.Source, StringComparer.Ordinal))
        {
            var relative = image.Split == "" ? $"{image.Candidate.Class}/{image.Candidate.Name}" : $"{image.Split}/{image.Candidate.Class}/{image.Candidate.Name}";
            if (!names.Add(relative))
            {
                skipped.Add(new SkippedFile(image.Candidate.Source, SkipReasons.NameClash, $"another file of the class is also named '{image.Candidate.Name}'"));
                continue;
            }
            var destination = Path.Combine(output, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Move(Path.Combine(extractRoot, image.Candidate.Source), destination);
            manifest.Add((relative, image.Hash, image.Bytes));
        }
        progress?.Invoke(new ImportProgress("writing", 0, classNames.Count));
        WriteThumbnails(output, classNames, manifest, decoder);

        var counts = manifest.GroupBy(m => ClassOf(m.Path), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (Train: g.Count(m => !m.Path.StartsWith("val/", StringComparison.Ordinal)), Validation: g.Count(m => m.Path.StartsWith("val/", StringComparison.Ordinal))));
        var classes = classNames.Select(name => new ImportedClass(name, counts.GetValueOrDefault(name).Train, counts.GetValueOrDefault(name).Validation)).ToList();
        bool split = layout.HasSplits || makeSplit;
        string kind = !split ? "class-folders" : classNames.All(ImageNetClasses.IsSynset) ? "imagenet" : "split-folders";
        var report = Report(extraction, skipped, emptyClasses, makeSplit);
        return new ImportedDataset(kind, WriteManifest(output, manifest), classes, manifest.Sum(m => m.Bytes),
            classes.Sum(c => c.Train), classes.Sum(c => c.Validation), report);
    }

    private static string ClassOf(string path)
    {
        var segments = path.Split('/');
        return segments.Length >= 3 ? segments[1] : segments[0];
    }

    private ImportedDataset WriteIdx(Layout layout, string extractRoot, string output, List<SkippedFile> skipped, Extraction extraction)
    {
        var manifest = new List<(string Path, string Hash, long Bytes)>();
        foreach (var file in layout.IdxFiles)
        {
            var name = Path.GetFileName(file);
            var destination = Path.Combine(output, name);
            File.Move(Path.Combine(extractRoot, file), destination);
            using var stream = File.OpenRead(destination);
            manifest.Add((name, Convert.ToHexStringLower(SHA256.HashData(stream)), stream.Length));
        }
        FashionMnistDataset train, test;
        try
        {
            train = new FashionMnistDataset(output, DatasetSplit.Train);
            test = new FashionMnistDataset(output, DatasetSplit.Validation);
        }
        catch (Exception e) when (e is DatasetException or IOException or InvalidDataException)
        {
            throw new ImportRefusedException(ImportRefusal.Corrupt, $"the IDX files do not read as a dataset: {e.Message}", e);
        }
        var trainCounts = new int[FashionMnistDataset.FashionClasses.Length];
        var testCounts = new int[trainCounts.Length];
        for (int i = 0; i < train.Count; i++) trainCounts[train.LabelOf(i)]++;
        for (int i = 0; i < test.Count; i++) testCounts[test.LabelOf(i)]++;
        var thumbnails = Path.Combine(output, ThumbnailFolder);
        for (int c = 0; c < trainCounts.Length; c++)
        {
            var folder = Directory.CreateDirectory(Path.Combine(thumbnails, c.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            int written = 0;
            for (int i = 0; i < train.Count && written < options.ThumbnailsPerClass; i++)
            {
                if (train.LabelOf(i) != c) continue;
                using var image = train.Load(i);
                SaveThumbnail(image, Path.Combine(folder, $"{written++}.jpg"));
            }
        }
        var classes = FashionMnistDataset.FashionClasses.Select((name, c) => new ImportedClass(name, trainCounts[c], testCounts[c])).ToList();
        return new ImportedDataset("idx", WriteManifest(output, manifest), classes, manifest.Sum(m => m.Bytes), train.Count, test.Count,
            Report(extraction, skipped, [], false));
    }

    private void WriteThumbnails(string output, IReadOnlyList<string> classNames, List<(string Path, string Hash, long Bytes)> manifest, ImageDecoder decoder)
    {
        var thumbnails = Path.Combine(output, ThumbnailFolder);
        var byClass = manifest.ToLookup(m => ClassOf(m.Path), StringComparer.Ordinal);
        Parallel.For(0, classNames.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Threads) }, c =>
        {
            var folder = Directory.CreateDirectory(Path.Combine(thumbnails, c.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
            var samples = byClass[classNames[c]].OrderBy(m => m.Path.StartsWith("val/", StringComparison.Ordinal)).ThenBy(m => m.Path, StringComparer.Ordinal)
                .Take(options.ThumbnailsPerClass).ToList();
            for (int i = 0; i < samples.Count; i++)
            {
                using var image = decoder.Decode(File.ReadAllBytes(Path.Combine(output, samples[i].Path)), samples[i].Path, minimumSide: options.ThumbnailSize);
                SaveThumbnail(image, Path.Combine(folder, $"{i}.jpg"));
            }
        });
    }

    private void SaveThumbnail(Image<Rgb24> image, string path)
    {
        image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(options.ThumbnailSize, options.ThumbnailSize), Mode = ResizeMode.Crop }));
        image.SaveAsJpeg(path, new JpegEncoder { Quality = 80 });
    }

    /// <summary>Writes the manifest (path, SHA-256, bytes; sorted) and returns its SHA-256: the dataset's digest.</summary>
    private static string WriteManifest(string output, List<(string Path, string Hash, long Bytes)> files)
    {
        var text = new StringBuilder();
        foreach (var (path, hash, bytes) in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            text.Append(path).Append('\t').Append(hash).Append('\t').Append(bytes).Append('\n');
        var content = Encoding.UTF8.GetBytes(text.ToString());
        File.WriteAllBytes(Path.Combine(output, ManifestFile), content);
        return Convert.ToHexStringLower(SHA256.HashData(content));
    }

    private ImportReport Report(Extraction extraction, List<SkippedFile> skipped, IReadOnlyList<string> emptyClasses, bool splitMade)
    {
        var ordered = skipped.OrderBy(s => s.Path, StringComparer.Ordinal).ToList();
        return new ImportReport
        {
            Entries = extraction.Entries,
            ExpandedBytes = extraction.ExpandedBytes,
            Skipped = ordered.Take(options.MaxListedSkips).ToList(),
            SkippedByReason = ordered.GroupBy(s => s.Reason).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            EmptyClasses = emptyClasses.Take(options.MaxListedSkips).ToList(),
            SplitFraction = splitMade ? options.ValidationFraction : null,
            SplitSeed = splitMade ? options.Seed : null,
        };
    }

    /// <summary>An image found in the archive: where it was extracted, and its split ("train", "val", or "" for plain class folders), class and file name.</summary>
    private sealed record Candidate(string Source, string Split, string Class, string Name);

    /// <summary>How the archive's files map onto a dataset: class folders, train/ and val/, or Fashion-MNIST's IDX files.</summary>
    private sealed class Layout
    {
        public List<Candidate> Images { get; } = [];
        public List<string> IdxFiles { get; } = [];
        public HashSet<string> DeclaredClasses { get; } = new(StringComparer.Ordinal);
        public bool HasSplits { get; private set; }
        public bool IsIdx => IdxFiles.Count > 0;

        public static Layout Of(Extraction extraction, string extractRoot, List<SkippedFile> skipped)
        {
            var layout = new Layout();
            // An archive of one folder (zip -r cats.zip mydata/) is read from inside that folder.
            var tops = extraction.Files.Concat(extraction.Folders).Select(p => p.Split('/')[0]).Distinct(StringComparer.Ordinal).ToList();
            string prefix = tops.Count == 1 && !IsSplitName(tops[0]) && extraction.Files.All(f => f.Contains('/')) ? tops[0] + "/" : "";
            var files = extraction.Files.Select(f => (Source: f, Path: f[prefix.Length..])).ToList();
            var folders = extraction.Folders.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.Length > prefix.Length).Select(f => f[prefix.Length..]).ToList();

            var idx = files.Where(f => !f.Path.Contains('/') && ArchiveExtractor.IsIdxFile(f.Path)).ToList();
            if (idx.Any(f => f.Path.StartsWith("train-images", StringComparison.Ordinal)) && idx.Any(f => f.Path.StartsWith("train-labels", StringComparison.Ordinal)))
            {
                layout.IdxFiles.AddRange(idx.Select(f => f.Source));
                skipped.AddRange(files.Except(idx).Select(f => new SkippedFile(f.Source, SkipReasons.OutsideClassFolder, "the archive is read as Fashion-MNIST IDX files; other files are not part of it")));
                return layout;
            }

            layout.HasSplits = files.Any(f => f.Path.StartsWith("train/", StringComparison.Ordinal));
            var groundTruthFile = files.Where(f => f.Path == ArchiveExtractor.GroundTruthFile).Select(f => f.Source).FirstOrDefault();
            IReadOnlyList<string>? groundTruth = groundTruthFile is null
                ? null
                : File.ReadAllLines(Path.Combine(extractRoot, groundTruthFile)).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            foreach (var (source, path) in files)
            {
                if (path == ArchiveExtractor.GroundTruthFile) continue;
                var segments = path.Split('/');
                if (ArchiveExtractor.IsIdxFile(segments[^1]))
                {
                    skipped.Add(new SkippedFile(source, SkipReasons.OutsideClassFolder, "IDX files are read only at the top of an archive, as a complete Fashion-MNIST set"));
                    continue;
                }
                if (!layout.HasSplits)
                {
                    if (segments.Length < 2)
                        skipped.Add(new SkippedFile(source, SkipReasons.OutsideClassFolder, "not inside a class folder"));
                    else
                        layout.Add(source, new Candidate(source, "", segments[0], string.Join("__", segments[1..])), skipped);
                    continue;
                }
                string? split = segments[0] == "train" ? "train" : ValidationNames.Contains(segments[0]) ? "val" : null;
                if (split is not null && segments.Length >= 3)
                    layout.Add(source, new Candidate(source, split, segments[1], string.Join("__", segments[2..])), skipped);
                else if (split == "val" && segments.Length == 2 && LabelOfFlatValidation(segments[1], groundTruth) is { } synset)
                    layout.Images.Add(new Candidate(source, "val", synset, segments[1]));
                else
                    skipped.Add(new SkippedFile(source, SkipReasons.OutsideClassFolder,
                        split is null ? "outside train/ and val/" : "not inside a class folder, and not an ImageNet validation image with a ground-truth label"));
            }
            foreach (var folder in folders)
            {
                var segments = folder.Split('/');
                if (!layout.HasSplits && segments.Length == 1 && !EntryNames.IsSystemFile(folder)) layout.DeclaredClasses.Add(segments[0]);
                if (layout.HasSplits && segments.Length == 2 && segments[0] == "train" && !EntryNames.IsSystemFile(folder)) layout.DeclaredClasses.Add(segments[1]);
            }
            foreach (var image in layout.Images.Where(i => i.Split != "val")) layout.DeclaredClasses.Add(image.Class);
            return layout;
        }

        private static bool IsSplitName(string name) => name == "train" || ValidationNames.Contains(name);

        /// <summary>Takes an image unless its flattened name is too long for the file system or its class would shadow the dataset's own files.</summary>
        private void Add(string source, Candidate candidate, List<SkippedFile> skipped)
        {
            if (Encoding.UTF8.GetByteCount(candidate.Name) > EntryNames.MaxSegmentBytes)
                skipped.Add(new SkippedFile(source, SkipReasons.NameTooLong, "its path inside the class folder, flattened, is too long a file name"));
            else if (candidate.Class == ManifestFile)
                skipped.Add(new SkippedFile(source, SkipReasons.NameClash, $"'{ManifestFile}' is the name of the dataset's manifest"));
            else
                Images.Add(candidate);
        }

        private static string? LabelOfFlatValidation(string name, IReadOnlyList<string>? groundTruth)
        {
            var match = ImageNetValidationName().Match(name);
            if (!match.Success) return null;
            var labels = groundTruth ?? ImageNetClasses.ValidationGroundTruth;
            int index = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - 1;
            return index >= 0 && index < labels.Count ? labels[index] : null;
        }
    }
}
