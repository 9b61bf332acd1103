using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using SixLabors.ImageSharp;
using SqueezeNext.Vision.Data.Import;

namespace SqueezeNext.Vision.Tests.Data.Import;

[Trait("Level", "unit")]
public sealed class DatasetImporterTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-import-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Staging(string name = "staging") => Path.Combine(root, name);

    /// <summary>Class folders of generated PNGs plus the real photos under 'photos/'.</summary>
    private string SourceFolder(int classes = 3, int perClass = 10)
    {
        var folder = TestData.ImageFolder(Path.Combine(root, "source"), classes, perClass, size: 32);
        var photos = Directory.CreateDirectory(Path.Combine(folder, "photos")).FullName;
        foreach (var photo in new[] { "chelsea.png", "coffee.png", "rocket.jpg", "tabby_cat.jpg" })
            File.Copy(TestData.Fixture(photo), Path.Combine(photos, photo));
        return folder;
    }

    private string Zip(string folder, string name = "upload.zip", string prefix = "")
    {
        var path = Path.Combine(root, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            zip.CreateEntryFromFile(file, prefix + Path.GetRelativePath(folder, file));
        return path;
    }

    [Fact]
    public void A_zip_of_class_folders_becomes_a_seeded_stratified_split_with_a_digest_and_thumbnails()
    {
        var archive = Zip(SourceFolder());
        var options = new ImportOptions { ValidationFraction = 0.2, Seed = 7 };
        var dataset = new DatasetImporter(options).ImportArchive(archive, Staging(), CancellationToken.None);

        Assert.Equal("split-folders", dataset.Layout);
        Assert.Equal(["class0", "class1", "class2", "photos"], dataset.Classes.Select(c => c.Name));
        Assert.Equal([(8, 2), (8, 2), (8, 2), (3, 1)], dataset.Classes.Select(c => (c.Train, c.Validation)));
        Assert.Empty(dataset.Report.Skipped);
        var output = DatasetImporter.DatasetFolder(Staging());
        Assert.Equal(8, Directory.GetFiles(Path.Combine(output, "train", "class1")).Length);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "val", "class1")).Length);
        Assert.Equal(4, Directory.GetDirectories(Path.Combine(output, DatasetImporter.ThumbnailFolder)).Length);
        Assert.Equal(10, Directory.GetFiles(Path.Combine(output, DatasetImporter.ThumbnailFolder, "0")).Length);
        Assert.False(Directory.Exists(Path.Combine(Staging(), "extract")));

        // The digest is the SHA-256 of the manifest, which lists every file with its own SHA-256.
        var manifest = File.ReadAllBytes(Path.Combine(output, DatasetImporter.ManifestFile));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(manifest)), dataset.Digest);
        var line = File.ReadAllLines(Path.Combine(output, DatasetImporter.ManifestFile)).First(l => l.StartsWith("train/photos/", StringComparison.Ordinal));
        var fields = line.Split('\t');
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(output, fields[0])))), fields[1]);

        // The engine reads the result as any dataset folder.
        Assert.Equal(["class0", "class1", "class2", "photos"], DatasetReader.DiscoverClasses(output));
        Assert.Equal(7, DatasetReader.Open(output, DatasetSplit.Validation).Count);

        // The same content and seed give the same split and digest, whatever the archive's order or wrapping folder.
        var again = new DatasetImporter(options).ImportArchive(Zip(Path.Combine(root, "source"), "again.zip", prefix: "my-photos/"), Staging("again"), CancellationToken.None);
        Assert.Equal(dataset.Digest, again.Digest);
        var otherSeed = new DatasetImporter(options with { Seed = 8 }).ImportArchive(archive, Staging("other"), CancellationToken.None);
        Assert.NotEqual(dataset.Digest, otherSeed.Digest);
        Assert.Equal(0.2, dataset.Report.SplitFraction);
    }

    [Fact]
    public void Without_a_validation_fraction_the_class_folders_serve_both_splits()
    {
        var dataset = new DatasetImporter(new ImportOptions { ValidationFraction = 0 })
            .ImportArchive(Zip(SourceFolder(classes: 2, perClass: 3)), Staging(), CancellationToken.None);
        Assert.Equal("class-folders", dataset.Layout);
        Assert.Equal(10, dataset.TrainImages);
        Assert.Equal(0, dataset.ValidationImages);
        Assert.Null(dataset.Report.SplitFraction);
        Assert.Equal(10, DatasetReader.Open(DatasetImporter.DatasetFolder(Staging()), DatasetSplit.Validation).Count);
    }

    [Fact]
    public void A_gzipped_tar_with_train_and_val_keeps_its_split_and_reports_what_it_left_out()
    {
        var source = Path.Combine(root, "split");
        TestData.ImageFolder(Path.Combine(source, "train"), 2, 4, size: 24, names: ["ants", "bees"]);
        TestData.ImageFolder(Path.Combine(source, "val"), 3, 2, size: 24, seed: 2, names: ["ants", "bees", "wasps"]);
        File.WriteAllText(Path.Combine(source, "train", "ants", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(source, "train", "ants", "broken.png"), "not a PNG either");
        File.Copy(Path.Combine(source, "train", "ants", "img000.png"), Path.Combine(source, "train", "bees", "copy.png"));
        Directory.CreateDirectory(Path.Combine(source, "train", "empty"));
        var archive = Path.Combine(root, "split.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
            TarFile.CreateFromDirectory(source, gzip, includeBaseDirectory: false);

        var dataset = new DatasetImporter(new ImportOptions()).ImportArchive(archive, Staging(), CancellationToken.None);

        Assert.Equal("split-folders", dataset.Layout);
        Assert.Equal(["ants", "bees"], dataset.Classes.Select(c => c.Name));
        Assert.Equal([(4, 2), (4, 2)], dataset.Classes.Select(c => (c.Train, c.Validation)));
        Assert.Null(dataset.Report.SplitFraction);
        var reasons = dataset.Report.Skipped.ToDictionary(s => s.Path, s => s.Reason);
        Assert.Equal(SkipReasons.NotAnImage, reasons["train/ants/notes.txt"]);
        Assert.Equal(SkipReasons.Undecodable, reasons["train/ants/broken.png"]);
        Assert.Equal(SkipReasons.Duplicate, reasons["train/bees/copy.png"]);
        Assert.Equal(SkipReasons.UnknownClass, reasons["val/wasps/img000.png"]);
        Assert.Equal(["empty"], dataset.Report.EmptyClasses);
        Assert.Equal(2, dataset.Report.SkippedByReason[SkipReasons.UnknownClass]);
    }

    [SkippableFact]
    public void Fashion_mnist_idx_files_import_with_their_ten_classes()
    {
        Skip.IfNot(TestData.FashionMnistInstalled, "dataset-fashion-mnist is not installed");
        var archive = Path.Combine(root, "fashion.tar");
        using (var tar = new TarWriter(File.Create(archive)))
        {
            foreach (var file in Directory.GetFiles(TestData.FashionMnistFolder, "*-ubyte.gz").Order(StringComparer.Ordinal))
                tar.WriteEntry(file, "fashion/" + Path.GetFileName(file));
        }
        var dataset = new DatasetImporter(new ImportOptions()).ImportArchive(archive, Staging(), CancellationToken.None);
        Assert.Equal("idx", dataset.Layout);
        Assert.Equal(60_000, dataset.TrainImages);
        Assert.Equal(10_000, dataset.ValidationImages);
        Assert.All(dataset.Classes, c => Assert.Equal((6000, 1000), (c.Train, c.Validation)));
        Assert.Equal(12, Directory.GetFiles(Path.Combine(DatasetImporter.DatasetFolder(Staging()), DatasetImporter.ThumbnailFolder, "9")).Length);
        Assert.Equal(60_000, DatasetReader.Open(DatasetImporter.DatasetFolder(Staging()), DatasetSplit.Train).Count);
    }

    [Fact]
    public void The_ilsvrc_archives_are_prepared_then_checked_like_any_upload()
    {
        // ILSVRC-2012's shape: one tar per synset inside the training tar, a flat validation tar labelled by the ground truth.
        var source = Directory.CreateDirectory(Path.Combine(root, "ilsvrc")).FullName;
        var truth = ImageNetClasses.ValidationGroundTruth;
        string[] synsets = [truth[0], truth[1]];
        byte[] Jpeg(int seed)
        {
            using var image = TestData.Gradient(48, 40, blue: (byte)seed);
            using var bytes = new MemoryStream();
            image.SaveAsJpeg(bytes);
            return bytes.ToArray();
        }
        using (var train = new TarWriter(File.Create(Path.Combine(source, ImageNetPreparation.TrainArchive))))
        {
            for (int s = 0; s < synsets.Length; s++)
            {
                using var inner = new MemoryStream();
                using (var writer = new TarWriter(inner, leaveOpen: true))
                    for (int i = 0; i < 3; i++)
                        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{synsets[s]}_{i}.JPEG") { DataStream = new MemoryStream(Jpeg(10 * s + i)) });
                inner.Position = 0;
                train.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{synsets[s]}.tar") { DataStream = inner });
            }
        }
        using (var validation = new TarWriter(File.Create(Path.Combine(source, ImageNetPreparation.ValidationArchive))))
            for (int k = 1; k <= 3; k++)
                validation.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"ILSVRC2012_val_{k:D8}.JPEG") { DataStream = new MemoryStream(Jpeg(100 + k)) });

        var dataset = new DatasetImporter(new ImportOptions()).ImportImageNet(source, Staging(), CancellationToken.None);

        Assert.Equal("imagenet", dataset.Layout);
        Assert.Equal(synsets.Order(StringComparer.Ordinal), dataset.Classes.Select(c => c.Name));
        Assert.Equal(6, dataset.TrainImages);
        int validationOfKnownClasses = Enumerable.Range(0, 3).Count(k => synsets.Contains(truth[k]));
        Assert.Equal(validationOfKnownClasses, dataset.ValidationImages);
        Assert.Equal(3 - validationOfKnownClasses, dataset.Report.SkippedByReason.GetValueOrDefault(SkipReasons.UnknownClass));
        Assert.Null(dataset.Report.SplitFraction);
    }

    [Fact]
    public void A_folder_with_a_link_is_refused_without_following_it()
    {
        var source = SourceFolder(classes: 1, perClass: 2);
        File.CreateSymbolicLink(Path.Combine(source, "class0", "passwd.png"), "/etc/passwd");
        var refusal = Assert.Throws<ImportRefusedException>(() => new DatasetImporter(new ImportOptions()).ImportFolder(source, Staging(), CancellationToken.None));
        Assert.Equal(ImportRefusal.Link, refusal.Reason);
    }

    [Fact]
    public void An_archive_with_no_usable_image_is_refused()
    {
        var source = Directory.CreateDirectory(Path.Combine(root, "text", "notes")).FullName;
        File.WriteAllText(Path.Combine(source, "a.txt"), "hello");
        var refusal = Assert.Throws<ImportRefusedException>(() =>
            new DatasetImporter(new ImportOptions()).ImportArchive(Zip(Path.Combine(root, "text")), Staging(), CancellationToken.None));
        Assert.Equal(ImportRefusal.NoImages, refusal.Reason);
        Assert.Contains("no-images", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_no_archive_is_refused_by_its_bytes_not_its_name()
    {
        var fake = Path.Combine(root, "fake.zip");
        File.WriteAllText(fake, "this is not a zip");
        var refusal = Assert.Throws<ImportRefusedException>(() => new DatasetImporter(new ImportOptions()).ImportArchive(fake, Staging(), CancellationToken.None));
        Assert.Equal(ImportRefusal.UnsupportedFormat, refusal.Reason);
    }
}
