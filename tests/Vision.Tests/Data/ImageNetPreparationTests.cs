using System.Formats.Tar;

namespace SqueezeNext.Vision.Tests.Data;

/// <summary>Builds small archives with the structure of ILSVRC-2012's and prepares them.</summary>
[Trait("Level", "unit")]
public sealed class ImageNetPreparationTests : IDisposable
{
    private static readonly string[] Synsets = ["n01440764", "n01443537", "n02123045"];
    private readonly TemporaryDirectory temp = new();
    private readonly byte[] jpeg = File.ReadAllBytes(TestData.Fixture("chelsea-gray.jpg"));

    public void Dispose() => temp.Dispose();

    private string BuildArchives(bool hostileEntry = false)
    {
        var source = Directory.CreateDirectory(temp.Sub("downloads")).FullName;
        using (var train = File.Create(Path.Combine(source, ImageNetPreparation.TrainArchive)))
        using (var writer = new TarWriter(train, TarEntryFormat.Ustar))
        {
            for (int s = 0; s < Synsets.Length; s++)
            {
                using var inner = new MemoryStream();
                using (var innerWriter = new TarWriter(inner, TarEntryFormat.Ustar, leaveOpen: true))
                {
                    for (int i = 0; i < s + 2; i++)
                        innerWriter.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"{Synsets[s]}_{i}.JPEG") { DataStream = new MemoryStream(jpeg) });
                    if (hostileEntry && s == 0)
                        innerWriter.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "../../escape.JPEG") { DataStream = new MemoryStream(jpeg) });
                }
                inner.Position = 0;
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"{Synsets[s]}.tar") { DataStream = inner });
            }
        }
        using (var val = File.Create(Path.Combine(source, ImageNetPreparation.ValidationArchive)))
        using (var writer = new TarWriter(val, TarEntryFormat.Ustar))
        {
            for (int k = 1; k <= 4; k++)
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"ILSVRC2012_val_{k:D8}.JPEG") { DataStream = new MemoryStream(jpeg) });
        }
        return source;
    }

    [Fact]
    public void Archives_become_synset_folders_with_validated_counts()
    {
        var source = BuildArchives();
        var output = temp.Sub("imagenet");
        var progress = new List<(string, long, long)>();

        var report = new ImageNetPreparation((what, done, total) => progress.Add((what, done, total))).Prepare(source, output);

        Assert.Equal(3, report.TrainSynsets);
        Assert.Equal(2 + 3 + 4, report.TrainImages);
        Assert.Equal(4, report.ValidationImages);
        Assert.Equal(0, report.SynsetsSkippedAsDone);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(output, "train", "n01443537"), "*.JPEG").Length);
        var truth = ImageNetClasses.ValidationGroundTruth;
        Assert.True(File.Exists(Path.Combine(output, "val", truth[0], "ILSVRC2012_val_00000001.JPEG")));
        Assert.True(File.Exists(Path.Combine(output, "val", truth[3], "ILSVRC2012_val_00000004.JPEG")));
        Assert.Contains(report.Warnings, w => w.Contains("ILSVRC-2012 has 1,000 and 1,281,167", StringComparison.Ordinal));
        Assert.Contains(progress, p => p.Item2 == 3 && p.Item3 == 3);

        // The result is a dataset the trainer reads.
        var dataset = DatasetReader.Open(output, DatasetSplit.Train);
        Assert.Equal(9, dataset.Count);
        Assert.Equal(Synsets, dataset.Classes);
    }

    [Fact]
    public void A_second_run_resumes_and_redoes_only_an_unfinished_synset()
    {
        var source = BuildArchives();
        var output = temp.Sub("resume");
        new ImageNetPreparation().Prepare(source, output);
        // Simulate a crash inside the last synset: its marker is missing and a half-written folder is left.
        File.Delete(Path.Combine(output, "train", "n02123045", ".complete"));
        Directory.CreateDirectory(Path.Combine(output, "train", ".n02123045.partial"));

        var report = new ImageNetPreparation().Prepare(source, output);

        Assert.Equal(2, report.SynsetsSkippedAsDone);
        Assert.Equal(9, report.TrainImages);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(output, "train", "n02123045"), "*.JPEG").Length);
        Assert.False(Directory.Exists(Path.Combine(output, "train", ".n02123045.partial")));
    }

    [Fact]
    public void Entries_that_try_to_escape_the_output_folder_stay_inside_it()
    {
        var source = BuildArchives(hostileEntry: true);
        var output = temp.Sub("hostile");

        new ImageNetPreparation().Prepare(source, output);

        Assert.False(File.Exists(temp.Sub("escape.JPEG")));
        Assert.False(File.Exists(Path.Combine(output, "escape.JPEG")));
        Assert.True(File.Exists(Path.Combine(output, "train", "n01440764", "escape.JPEG")));
    }

    [Fact]
    public void Missing_archives_and_garbage_are_named()
    {
        Directory.CreateDirectory(temp.Sub("nothing"));
        Assert.Contains("holds neither", Assert.Throws<DatasetException>(() => new ImageNetPreparation().Prepare(temp.Sub("nothing"), temp.Sub("out"))).Message);

        Directory.CreateDirectory(temp.Sub("garbage"));
        File.WriteAllBytes(Path.Combine(temp.Sub("garbage"), ImageNetPreparation.ValidationArchive), Enumerable.Repeat((byte)7, 2000).ToArray());
        Assert.Contains("is not a readable tar archive", Assert.Throws<DatasetException>(() => new ImageNetPreparation().Prepare(temp.Sub("garbage"), temp.Sub("out2"))).Message);
    }
}
