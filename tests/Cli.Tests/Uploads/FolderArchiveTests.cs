using System.Formats.Tar;
using System.Security.Cryptography;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Cli.Tests.Uploads;

/// <summary>
/// A folder packed on the fly: the length known beforehand is the length produced, System.Formats.Tar reads back the
/// same files and bytes, and the stream opened at any offset is the tail of the whole.
/// </summary>
[Trait("Level", "unit")]
public sealed class FolderArchiveTests : IDisposable
{
    private const UnixFileMode FileMode644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode FolderMode755 = FileMode644 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-archive-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static readonly string LongFolder = string.Join('/', Enumerable.Repeat("a-rather-long-folder-name", 5));

    /// <summary>
    /// The files a dataset folder may hold, with the names ustar cannot hold alone: over 100 bytes (split at a '/'),
    /// over 255 (PAX), not ASCII (PAX); and what must be left out: hidden names and links.
    /// </summary>
    private Dictionary<string, byte[]> MakeDataset()
    {
        var random = new Random(7);
        byte[] Bytes(int n)
        {
            var bytes = new byte[n];
            random.NextBytes(bytes);
            return bytes;
        }
        var files = new Dictionary<string, byte[]>
        {
            ["train/cat/0001.jpg"] = Bytes(70_001),
            ["train/cat/0002.jpg"] = Bytes(512),
            ["train/dog/0001.jpg"] = Bytes(513),
            ["train/dog/empty.jpg"] = [],
            ["val/labels.txt"] = Bytes(1_000_000),
            [$"{LongFolder}/{new string('n', 90)}.bin"] = Bytes(1000),
            [$"{new string('x', 120)}/{new string('y', 120)}/{new string('z', 60)}.bin"] = Bytes(100),
            ["train/ünïcödé/chat-été.jpg"] = Bytes(2048),
        };
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }
        Directory.CreateDirectory(Path.Combine(root, "empty-class"));
        File.WriteAllText(Path.Combine(root, ".DS_Store"), "hidden");
        Directory.CreateDirectory(Path.Combine(root, ".git"));
        File.WriteAllText(Path.Combine(root, ".git", "config"), "hidden");
        File.WriteAllText(Path.Combine(root, "train", ".hidden.jpg"), "hidden");
        File.CreateSymbolicLink(Path.Combine(root, "train", "link.jpg"), Path.Combine(root, "val", "labels.txt"));
        Directory.CreateSymbolicLink(Path.Combine(root, "linked-folder"), Path.Combine(root, "train"));
        return files;
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void The_length_known_beforehand_is_the_length_produced()
    {
        MakeDataset();
        var archive = FolderArchive.Create(root);

        using var stream = archive.OpenRead();
        var bytes = ReadAll(stream);

        Assert.Equal(archive.Length, bytes.LongLength);
        Assert.Equal(0, archive.Length % 512);
    }

    [Fact]
    public void The_archive_reads_back_with_System_Formats_Tar_as_the_same_files_and_bytes_in_ordinal_order()
    {
        var files = MakeDataset();
        var skipped = new List<string>();
        var archive = FolderArchive.Create(root, skipped.Add);

        using var stream = archive.OpenRead();
        using var reader = new TarReader(stream);
        var read = new Dictionary<string, byte[]>();
        var names = new List<string>();
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            names.Add(entry.Name);
            Assert.Equal(0, entry.Uid);
            Assert.Equal(0, entry.Gid);
            Assert.Equal(DateTimeOffset.UnixEpoch, entry.ModificationTime);
            if (entry.EntryType == TarEntryType.Directory)
            {
                Assert.Equal(FolderMode755, entry.Mode);
                continue;
            }
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
            Assert.Equal(FileMode644, entry.Mode);
            read[entry.Name] = entry.DataStream is null ? [] : ReadAll(entry.DataStream);
        }

        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), read.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, bytes) in files) Assert.True(bytes.AsSpan().SequenceEqual(read[path]), path);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Contains("empty-class/", names);
        Assert.DoesNotContain(names, n => n.Contains("/.") || n.StartsWith('.') || n.Contains("link"));
        Assert.Equal(2, skipped.Count);
        Assert.Contains(skipped, s => s.Contains("link.jpg"));
        Assert.Contains(skipped, s => s.Contains("linked-folder"));
        Assert.Equal(files.Count, archive.FileCount);
    }

    [Fact]
    public void The_stream_opened_at_an_offset_is_the_tail_of_the_whole()
    {
        MakeDataset();
        var archive = FolderArchive.Create(root);
        byte[] whole;
        using (var stream = archive.OpenRead()) whole = ReadAll(stream);

        // Inside headers, at block edges, inside the large file, in padding, in the end-of-archive blocks, at the end.
        long[] offsets = [0, 1, 511, 512, 513, 1024, 70_000, 70_001 + 512, 300_000, 777_777, whole.Length / 2, whole.Length - 1025, whole.Length - 1, whole.Length];
        foreach (var offset in offsets)
        {
            using var tail = archive.OpenRead(offset);
            var bytes = ReadAll(tail);
            Assert.True(whole.AsSpan((int)offset).SequenceEqual(bytes), $"from {offset}: {bytes.Length} bytes, expected {whole.Length - offset}");
        }
    }

    [Fact]
    public void Packing_twice_gives_the_same_bytes_and_a_changed_file_changes_the_fingerprint()
    {
        MakeDataset();
        var first = FolderArchive.Create(root);
        var second = FolderArchive.Create(root);
        using (var a = first.OpenRead())
        using (var b = second.OpenRead())
            Assert.Equal(SHA256.HashData(a), SHA256.HashData(b));
        Assert.Equal(first.Fingerprint, second.Fingerprint);

        File.SetLastWriteTimeUtc(Path.Combine(root, "val", "labels.txt"), DateTime.UtcNow.AddMinutes(-5));

        Assert.NotEqual(first.Fingerprint, FolderArchive.Create(root).Fingerprint);
    }

    [Fact]
    public void A_file_changed_after_listing_stops_the_stream_naming_it()
    {
        MakeDataset();
        var archive = FolderArchive.Create(root);
        File.AppendAllText(Path.Combine(root, "val", "labels.txt"), "more");

        using var stream = archive.OpenRead();
        var error = Assert.Throws<IOException>(() => ReadAll(stream));

        Assert.Contains(Path.Combine(root, "val", "labels.txt"), error.Message);
    }

    [Fact]
    public void A_file_over_ustars_8_GiB_gets_its_size_from_a_PAX_header()
    {
        // Sparse: no disk space is used, and only the header is read.
        long size = 8L * 1024 * 1024 * 1024 + 3;
        using (var big = File.Create(Path.Combine(root, "big.bin"))) big.SetLength(size);
        var archive = FolderArchive.Create(root);

        using var stream = archive.OpenRead();
        using var reader = new TarReader(stream);
        var entry = reader.GetNextEntry(copyData: false)!;

        Assert.Equal("big.bin", entry.Name);
        Assert.Equal(size, entry.Length);
        Assert.Equal(3 * 512 + (size + 509) + 1024, archive.Length);
    }
}
