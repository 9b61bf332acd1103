using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace SqueezeNext.Vision.Data.Import;

/// <summary>What extraction wrote and left out.</summary>
public sealed record Extraction(IReadOnlyList<string> Files, IReadOnlyList<string> Folders, IReadOnlyList<SkippedFile> Skipped, int Entries, long ExpandedBytes);

/// <summary>
/// Extracts a zip, tar or gzipped tar (recognised by its first bytes, not its name) into a staging folder, keeping
/// only what a dataset can use (images, Fashion-MNIST's IDX files, an ImageNet ground-truth list) and refusing the
/// whole archive at the first entry that is hostile: a path outside the folder, a link or device, too many entries,
/// too many bytes or too high a compression ratio, a name that is not UTF-8 or holds control characters, or data
/// that is truncated or corrupt. Every byte written is counted as it is written; no header's word is taken for a size.
/// </summary>
public sealed class ArchiveExtractor(ImportOptions options, Action<ImportProgress>? progress = null)
{
    public const string GroundTruthFile = DatasetReader.GroundTruthFileName;

    private static readonly string[] IdxNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    private static readonly Encoding Utf8WithReplacement = new UTF8Encoding(false, false);

    private readonly List<string> files = [];
    private readonly HashSet<string> folders = new(StringComparer.Ordinal);
    private readonly List<SkippedFile> skipped = [];
    private readonly HashSet<string> seen = new(StringComparer.Ordinal);
    private int entries;
    private long expanded;
    private CountingStream? source;
    private string target = "";

    /// <summary>Whether the import keeps a file of this name: an image, an IDX file or the ground-truth list.</summary>
    public static bool IsDatasetFile(string path)
    {
        var name = Path.GetFileName(path);
        return ImageFolderDataset.IsImageFile(name) || IsIdxFile(name) || name == GroundTruthFile;
    }

    public static bool IsIdxFile(string name) =>
        IdxNames.Any(idx => name == idx || name == idx + ".gz");

    public Extraction Extract(string archivePath, string extractTo, CancellationToken cancellationToken)
    {
        target = Path.GetFullPath(extractTo);
        Directory.CreateDirectory(target);
        using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        source = new CountingStream(file);
        try
        {
            switch (FormatOf(file))
            {
                case ArchiveFormat.Zip:
                    ExtractZip(file.Length, cancellationToken);
                    break;
                case ArchiveFormat.GzipTar:
                    using (var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true))
                        ExtractTar(new CountingStream(gzip), file.Length, cancellationToken);
                    break;
                case ArchiveFormat.Tar:
                    ExtractTar(source, file.Length, cancellationToken);
                    break;
                default:
                    throw new ImportRefusedException(ImportRefusal.UnsupportedFormat, "the file is not a zip, tar or gzipped tar archive");
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
        {
            throw new ImportRefusedException(ImportRefusal.Corrupt, $"the archive is truncated or corrupt after {entries:N0} entries: {e.Message}", e);
        }
        return Result();
    }

    /// <summary>Copies a folder on the data volume into staging, under the same rules (links are refused, not followed).</summary>
    public Extraction CopyFolder(string folder, string extractTo, CancellationToken cancellationToken)
    {
        target = Path.GetFullPath(extractTo);
        Directory.CreateDirectory(target);
        Walk(folder, (path, file) =>
        {
            if (!Wanted(path)) return;
            using var input = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            Keep(path, input, file.Length, null, cancellationToken);
        }, cancellationToken);
        return Result();
    }

    /// <summary>Takes a folder already in staging (unpacked by a trusted step) as extracted, checking it under the same rules without copying.</summary>
    public Extraction Adopt(string folder, CancellationToken cancellationToken)
    {
        target = Path.GetFullPath(folder);
        Walk(folder, (path, file) =>
        {
            if (!Wanted(path)) return;
            if (file.Length > options.Images.MaxBytes && !IsIdxFile(file.Name))
            {
                Skip(path, SkipReasons.OverLimits, $"larger than the {options.Images.MaxBytes:N0}-byte limit for one image");
                return;
            }
            expanded += file.Length;
            files.Add(path);
        }, cancellationToken);
        return Result();
    }

    private void Walk(string folder, Action<string, FileInfo> onFile, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(folder);
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var entry in new DirectoryInfo(current).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var relative = Path.GetRelativePath(root, entry.FullName);
                if (entry.LinkTarget is not null)
                    throw new ImportRefusedException(ImportRefusal.Link, $"'{EntryNames.Printable(relative)}' is a link; links are not followed");
                Count();
                var path = EntryNames.Normalise(relative);
                if (entry is DirectoryInfo)
                {
                    folders.Add(path);
                    pending.Push(entry.FullName);
                }
                else if (entry is FileInfo file && IsRegular(file))
                {
                    onFile(path, file);
                }
                else
                {
                    throw new ImportRefusedException(ImportRefusal.Device, $"'{EntryNames.Printable(relative)}' is not a regular file");
                }
            }
        }
    }

    private static bool IsRegular(FileInfo file) => (file.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) == 0;

    private Extraction Result()
    {
        progress?.Invoke(new ImportProgress("extracting", entries, entries));
        return new Extraction(files, folders.Order(StringComparer.Ordinal).ToList(), skipped, entries, expanded);
    }

    private void ExtractZip(long archiveBytes, CancellationToken cancellationToken)
    {
        // The central directory is read whole into memory by ZipArchive: its entry count is checked first, from the end record.
        long declared = ZipEntryCount(source!);
        if (declared > options.MaxEntries)
            throw new ImportRefusedException(ImportRefusal.TooManyEntries, $"the archive declares {declared:N0} entries, over the limit of {options.MaxEntries:N0}");
        source!.Position = 0;
        using var zip = new ZipArchive(source, ZipArchiveMode.Read, leaveOpen: true, entryNameEncoding: Utf8WithReplacement);
        foreach (var entry in zip.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Count();
            var path = EntryNames.Normalise(entry.FullName);
            int mode = (entry.ExternalAttributes >> 16) & 0xF000;
            if (mode == 0xA000)
                throw new ImportRefusedException(ImportRefusal.Link, $"entry '{EntryNames.Printable(entry.FullName)}' is a symbolic link");
            if (mode is 0x1000 or 0x2000 or 0x6000 or 0xC000)
                throw new ImportRefusedException(ImportRefusal.Device, $"entry '{EntryNames.Printable(entry.FullName)}' is a device, pipe or socket");
            if (entry.FullName.EndsWith('/') || entry.FullName.EndsWith('\\') || mode == 0x4000)
            {
                if (path.Length > 0) folders.Add(path);
                continue;
            }
            if (!Wanted(path)) continue;
            using var data = entry.Open();
            long written = Keep(path, data, entry.Length, archiveBytes, cancellationToken);
            if (written != entry.Length)
                throw new ImportRefusedException(ImportRefusal.Corrupt, $"entry '{EntryNames.Printable(entry.FullName)}' holds {written:N0} bytes but declares {entry.Length:N0}");
        }
    }

    private void ExtractTar(Stream archive, long archiveBytes, CancellationToken cancellationToken)
    {
        using var reader = new TarReader(archive, leaveOpen: true);
        while (reader.GetNextEntry(copyData: false) is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Count();
            var path = EntryNames.Normalise(entry.Name);
            switch (entry.EntryType)
            {
                case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                    throw new ImportRefusedException(ImportRefusal.Link,
                        $"entry '{EntryNames.Printable(entry.Name)}' is a {(entry.EntryType == TarEntryType.HardLink ? "hard" : "symbolic")} link to '{EntryNames.Printable(entry.LinkName)}'");
                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                    throw new ImportRefusedException(ImportRefusal.Device, $"entry '{EntryNames.Printable(entry.Name)}' is a device or pipe");
                case TarEntryType.Directory:
                    if (path.Length > 0) folders.Add(path);
                    continue;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    break;
                case TarEntryType.GlobalExtendedAttributes:
                    // Metadata for the whole archive (git archive writes one): nothing to extract.
                    continue;
                default:
                    throw new ImportRefusedException(ImportRefusal.Device, $"entry '{EntryNames.Printable(entry.Name)}' is a {entry.EntryType} entry, which a dataset never holds");
            }
            if (!Wanted(path) || entry.DataStream is null)
            {
                // The reader skips the data by reading it: a bomb hidden in a file that is not kept still counts.
                if (entry.DataStream is { } unwanted) Drain(unwanted, archiveBytes, cancellationToken);
                continue;
            }
            long written = Keep(path, entry.DataStream, entry.Length, archiveBytes, cancellationToken);
            if (written < entry.Length)
                throw new ImportRefusedException(ImportRefusal.Corrupt, $"the archive is truncated inside entry '{EntryNames.Printable(entry.Name)}'");
        }
    }

    private void Count()
    {
        if (++entries > options.MaxEntries)
            throw new ImportRefusedException(ImportRefusal.TooManyEntries, $"the archive holds more than {options.MaxEntries:N0} entries");
        if (entries % 500 == 0) progress?.Invoke(new ImportProgress("extracting", entries, 0));
    }

    /// <summary>Whether an entry is kept; one that is not is listed with its reason.</summary>
    private bool Wanted(string path)
    {
        if (path.Length == 0) return false;
        // A class folder may exist only through the files in it, even when none of them is kept (an empty class). The
        // layout reads class folders at most three levels down (a wrapping folder, train/, the class).
        int slash = path.IndexOf('/');
        for (int level = 0; slash > 0 && level < 3; level++, slash = path.IndexOf('/', slash + 1))
            if (!EntryNames.IsSystemFile(path[..slash])) folders.Add(path[..slash]);
        if (EntryNames.Unusable(path) is { } reason)
        {
            Skip(path, reason, reason == SkipReasons.SystemFile ? "added by an operating system or archiver, or hidden" : "the name is too long");
            return false;
        }
        if (!IsDatasetFile(path))
        {
            Skip(path, SkipReasons.NotAnImage, $"'{Path.GetExtension(path)}' is not an image type ({string.Join(", ", ImageFolderDataset.ImageExtensions)})");
            return false;
        }
        if (!seen.Add(path))
        {
            Skip(path, SkipReasons.NameClash, "the archive holds another entry of the same name; the first was kept");
            return false;
        }
        return true;
    }

    private void Skip(string path, string reason, string detail) => skipped.Add(new SkippedFile(path, reason, detail));

    /// <summary>Streams one entry into staging, counting every byte; an image over the size limit is left out, a bomb refuses the archive.</summary>
    private long Keep(string path, Stream data, long declaredLength, long? archiveBytes, CancellationToken cancellationToken)
    {
        bool idx = IsIdxFile(Path.GetFileName(path));
        long limit = idx ? options.MaxIdxFileBytes : path.EndsWith(GroundTruthFile, StringComparison.Ordinal) ? 4L << 20 : options.Images.MaxBytes;
        // A gzipped IDX file is unpacked here, where every byte it expands to is counted, rather than by its reader.
        bool gunzip = idx && path.EndsWith(".gz", StringComparison.Ordinal);
        var kept = gunzip ? path[..^3] : path;
        var destination = Path.GetFullPath(Path.Combine(target, kept));
        if (!destination.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ImportRefusedException(ImportRefusal.PathTraversal, $"entry '{EntryNames.Printable(path)}' resolves outside the staging folder");
        long written;
        bool tooLarge;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            using var unpacked = gunzip ? new GZipStream(data, CompressionMode.Decompress, leaveOpen: true) : null;
            written = Copy(unpacked ?? data, output, limit, archiveBytes, path, cancellationToken, out tooLarge);
        }
        catch (IOException) when (Directory.Exists(destination) || File.Exists(destination) || AnyParentIsFile(destination))
        {
            // A file and a folder of one name (a/x.png, then a/x.png/y.png): the first one stays.
            Skip(path, SkipReasons.NameClash, "a file and a folder of the archive have this name; the first was kept");
            Drain(data, archiveBytes, cancellationToken);
            return declaredLength;
        }
        if (tooLarge)
        {
            File.Delete(destination);
            Skip(path, SkipReasons.OverLimits, $"larger than the {limit:N0}-byte limit for one {(idx ? "IDX file" : "image")}");
            Drain(data, archiveBytes, cancellationToken);
            return declaredLength;
        }
        files.Add(kept);
        return gunzip ? declaredLength : written;
    }

    private bool AnyParentIsFile(string destination)
    {
        for (var parent = Path.GetDirectoryName(destination); parent is not null && parent.Length > target.Length; parent = Path.GetDirectoryName(parent))
            if (File.Exists(parent)) return true;
        return false;
    }

    private void Drain(Stream data, long? archiveBytes, CancellationToken cancellationToken) =>
        Copy(data, Stream.Null, long.MaxValue, archiveBytes, null, cancellationToken, out _);

    private long Copy(Stream data, Stream output, long limit, long? archiveBytes, string? path, CancellationToken cancellationToken, out bool overLimit)
    {
        var buffer = new byte[1 << 16];
        long written = 0;
        long consumedAtStart = source?.BytesRead ?? 0;
        overLimit = false;
        int read;
        while ((read = data.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            written += read;
            expanded += read;
            if (expanded > options.MaxExpandedBytes)
                throw new ImportRefusedException(ImportRefusal.TooLarge, $"the archive expands to more than {options.MaxExpandedBytes:N0} bytes");
            if (archiveBytes is not null && source is not null)
            {
                long consumed = Math.Max(1, source.BytesRead - consumedAtStart);
                if (written > options.RatioCheckAfterBytes && written / (double)consumed > options.MaxCompressionRatio)
                    throw new ImportRefusedException(ImportRefusal.Ratio,
                        $"entry '{EntryNames.Printable(path ?? "(skipped)")}' expands more than {options.MaxCompressionRatio:0}-fold (an archive bomb)");
                // Against the whole file, not the bytes read: zip entries that share one compressed range are read again each time.
                if (expanded > options.RatioCheckAfterBytes && expanded / (double)Math.Max(1, archiveBytes.Value) > options.MaxCompressionRatio)
                    throw new ImportRefusedException(ImportRefusal.Ratio, $"the archive expands more than {options.MaxCompressionRatio:0}-fold (an archive bomb)");
            }
            if (written > limit)
            {
                overLimit = true;
                return written;
            }
            output.Write(buffer, 0, read);
        }
        return written;
    }

    private enum ArchiveFormat { Unknown, Zip, Tar, GzipTar }

    private static ArchiveFormat FormatOf(FileStream file)
    {
        Span<byte> head = stackalloc byte[512];
        int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        if (read >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2], head[3]) is (3, 4) or (5, 6)) return ArchiveFormat.Zip;
        if (read >= 2 && head[0] == 0x1F && head[1] == 0x8B) return ArchiveFormat.GzipTar;
        if (read >= 262 && head.Slice(257, 5).SequenceEqual("ustar"u8)) return ArchiveFormat.Tar;
        // A V7 tar has no magic; its header checksum is the test.
        if (read == 512 && TarChecksumMatches(head)) return ArchiveFormat.Tar;
        return ArchiveFormat.Unknown;
    }

    private static bool TarChecksumMatches(ReadOnlySpan<byte> header)
    {
        var field = Encoding.ASCII.GetString(header.Slice(148, 8)).Trim('\0', ' ');
        if (field.Length == 0) return false;
        long stored;
        try
        {
            stored = Convert.ToInt64(field, 8);
        }
        catch (FormatException)
        {
            return false;
        }
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? ' ' : header[i];
        return sum == stored;
    }

    /// <summary>The entry count from a zip's end-of-central-directory record (its ZIP64 form when the count overflows), without reading the directory.</summary>
    private static long ZipEntryCount(Stream stream)
    {
        int tail = (int)Math.Min(stream.Length, 65_557);
        var buffer = new byte[tail];
        stream.Position = stream.Length - tail;
        stream.ReadExactly(buffer);
        for (int i = tail - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i)) != 0x06054B50) continue;
            long count = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(i + 10));
            if (count != 0xFFFF || i < 20 || BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i - 20)) != 0x07064B50) return count;
            long zip64Record = (long)BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(i - 12));
            if (zip64Record < 0 || zip64Record + 40 > stream.Length)
                throw new ImportRefusedException(ImportRefusal.Corrupt, "the archive's ZIP64 end record points outside the file");
            var record = new byte[40];
            stream.Position = zip64Record;
            stream.ReadExactly(record);
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != 0x06064B50)
                throw new ImportRefusedException(ImportRefusal.Corrupt, "the archive's ZIP64 end record is missing");
            return (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32)), long.MaxValue);
        }
        throw new ImportRefusedException(ImportRefusal.Corrupt, "the zip archive is truncated: it has no end-of-central-directory record");
    }

    /// <summary>Counts the bytes read through it: the compressed side of the ratio.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer);
            BytesRead += read;
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
