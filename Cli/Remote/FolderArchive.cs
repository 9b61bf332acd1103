using System.Security.Cryptography;
using System.Text;

namespace SqueezeNext.Cli.Remote;

/// <summary>
/// A folder as a POSIX tar stream made on the fly, with no temporary file, whose exact length is known before the
/// first byte: entries in ordinal order of their relative paths, modification time 0, owner 0:0, mode 0644 for files
/// and 0755 for folders; hidden names (starting with '.') and links are left out. Because the packing depends on
/// nothing but the listed files, the stream can be opened at any offset (a resumed upload), straight at the file and
/// position the offset falls in. The headers are written here rather than by System.Formats.Tar's TarWriter, whose
/// PAX headers carry the process id and the current time, so two runs would not give the same bytes.
/// </summary>
public sealed class FolderArchive
{
    private const int Block = 512;
    private const int EndOfArchiveBytes = 2 * Block;
    private const long MaxUstarSize = (1L << 33) - 1;
    private const int FilePermissions = 0b110_100_100;
    private const int FolderPermissions = 0b111_101_101;

    private readonly Entry[] entries;

    private FolderArchive(string folder, Entry[] entries, long length, string fingerprint)
    {
        Folder = folder;
        this.entries = entries;
        Length = length;
        Fingerprint = fingerprint;
    }

    /// <summary>The folder's full path.</summary>
    public string Folder { get; }

    /// <summary>The archive's length in bytes, exactly what <see cref="OpenRead"/> gives from offset 0.</summary>
    public long Length { get; }

    /// <summary>Changes when the folder's path or any packed file's name, size or modification time does.</summary>
    public string Fingerprint { get; }

    /// <summary>The packed entries' paths in archive order, folders ending in '/'.</summary>
    public IEnumerable<string> Paths => entries.Select(e => e.Path);

    public int FileCount => entries.Count(e => !e.IsDirectory);

    /// <summary>Lists <paramref name="folder"/> (regular files and folders, hidden names and links left out, each link reported to <paramref name="skipped"/>).</summary>
    public static FolderArchive Create(string folder, Action<string>? skipped = null)
    {
        var root = new DirectoryInfo(Path.GetFullPath(folder));
        if (!root.Exists) throw new DirectoryNotFoundException($"{root.FullName} is not a folder");
        var listed = new List<Listed>();
        List(root, root.FullName, listed, skipped);
        listed.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));

        var entries = new Entry[listed.Count];
        long offset = 0;
        using var fingerprint = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        fingerprint.AppendData(Encoding.UTF8.GetBytes(root.FullName + "\n"));
        for (int i = 0; i < listed.Count; i++)
        {
            var (path, size, lastWrite) = listed[i];
            bool isDirectory = path.EndsWith('/');
            int headerBytes = Header(path, size, isDirectory).Length;
            entries[i] = new Entry(path, size, lastWrite, offset, headerBytes);
            offset += headerBytes + Padded(size);
            fingerprint.AppendData(Encoding.UTF8.GetBytes($"{path}\n{size}\n{lastWrite.Ticks}\n"));
        }
        return new FolderArchive(root.FullName, entries, offset + EndOfArchiveBytes, Convert.ToHexStringLower(fingerprint.GetHashAndReset()));
    }

    /// <summary>The archive from <paramref name="offset"/> on (0 to <see cref="Length"/>).</summary>
    /// <exception cref="IOException">On reading, when a packed file changed after it was listed.</exception>
    public Stream OpenRead(long offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Length);
        return new ArchiveStream(this, offset);
    }

    private static void List(DirectoryInfo directory, string root, List<Listed> listed, Action<string>? skipped)
    {
        foreach (var item in directory.EnumerateFileSystemInfos())
        {
            if (item.Name.StartsWith('.')) continue;
            var path = Path.GetRelativePath(root, item.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (item.LinkTarget is not null)
            {
                skipped?.Invoke($"{item.FullName} is a link to {item.LinkTarget}; links are not packed");
                continue;
            }
            if (item is DirectoryInfo subfolder)
            {
                listed.Add(new Listed(path + "/", 0, default));
                List(subfolder, root, listed, skipped);
            }
            else if (item is FileInfo file)
                listed.Add(new Listed(path, file.Length, file.LastWriteTimeUtc));
        }
    }

    private static long Padded(long size) => (size + Block - 1) / Block * Block;

    /// <summary>
    /// A ustar header block, after a PAX extended header when the name is not ASCII, does not fit ustar's name and
    /// prefix fields, or the size does not fit its 11 octal digits.
    /// </summary>
    private static byte[] Header(string path, long size, bool isDirectory)
    {
        var records = new StringBuilder();
        var nameBytes = Encoding.UTF8.GetBytes(path);
        bool ascii = nameBytes.Length == path.Length;
        (string Prefix, string Name)? split = ascii ? SplitUstarName(path) : null;
        if (split is null) records.Append(PaxRecord("path", path));
        if (size > MaxUstarSize) records.Append(PaxRecord("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var main = UstarBlock(split?.Name ?? FallbackName(path, isDirectory), split?.Prefix ?? "", size > MaxUstarSize ? 0 : size,
            isDirectory ? (byte)'5' : (byte)'0', isDirectory ? FolderPermissions : FilePermissions);
        if (records.Length == 0) return main;

        var pax = Encoding.UTF8.GetBytes(records.ToString());
        var header = new byte[Block + Padded(pax.Length) + Block];
        var fallback = FallbackName(path, isDirectory: false);
        UstarBlock("PaxHeaders/" + (fallback.Length <= 89 ? fallback : fallback[^89..]), "", pax.Length, (byte)'x', FilePermissions).CopyTo(header, 0);
        pax.CopyTo(header, Block);
        main.CopyTo(header, header.Length - Block);
        return header;
    }

    /// <summary>ustar's split of a long name at a '/': prefix up to 155 bytes, name up to 100; null when it cannot be split.</summary>
    private static (string Prefix, string Name)? SplitUstarName(string path)
    {
        if (path.Length <= 100) return ("", path);
        // A folder's trailing '/' belongs to the name part.
        for (int slash = path.LastIndexOf('/', path.Length - 2); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (slash > 155) continue;
            if (path.Length - slash - 1 > 100) return null;
            return (path[..slash], path[(slash + 1)..]);
        }
        return null;
    }

    /// <summary>An ASCII name of at most 100 bytes, for readers that ignore the PAX path.</summary>
    private static string FallbackName(string path, bool isDirectory)
    {
        var ascii = new string(path.Select(c => c is >= ' ' and <= '~' ? c : '_').ToArray());
        if (ascii.Length <= 100) return ascii;
        return isDirectory ? ascii[..99] + "/" : ascii[^100..];
    }

    /// <summary>A PAX record: "LENGTH key=value\n", where LENGTH counts the whole record, its own digits included.</summary>
    private static string PaxRecord(string key, string value)
    {
        int body = Encoding.UTF8.GetByteCount($" {key}={value}\n");
        int length = body + 1;
        while (length != body + length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length)
            length = body + length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        return $"{length} {key}={value}\n";
    }

    private static byte[] UstarBlock(string name, string prefix, long size, byte type, int mode)
    {
        var block = new byte[Block];
        Encoding.ASCII.GetBytes(name).CopyTo(block, 0);
        Octal(block, 100, 8, mode);
        Octal(block, 108, 8, 0);
        Octal(block, 116, 8, 0);
        Octal(block, 124, 12, size);
        Octal(block, 136, 12, 0);
        block[156] = type;
        "ustar\000"u8.CopyTo(block.AsSpan(257));
        Encoding.ASCII.GetBytes(prefix).CopyTo(block, 345);
        // The checksum is the sum of the header's bytes with its own field read as spaces.
        "        "u8.CopyTo(block.AsSpan(148));
        int checksum = block.Sum(b => b);
        Octal(block, 148, 7, checksum);
        block[155] = (byte)' ';
        return block;
    }

    /// <summary>A number as zero-padded octal digits filling all but the last byte of the field, which stays NUL.</summary>
    private static void Octal(byte[] block, int at, int width, long value)
    {
        var digits = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        Encoding.ASCII.GetBytes(digits).CopyTo(block, at);
        block[at + width - 1] = 0;
    }

    private readonly record struct Listed(string Path, long Size, DateTime LastWriteUtc);

    private readonly record struct Entry(string Path, long Size, DateTime LastWriteUtc, long Start, int HeaderBytes)
    {
        public bool IsDirectory => Path.EndsWith('/');
        public long DataStart => Start + HeaderBytes;
        public long End => DataStart + Padded(Size);
    }

    /// <summary>The archive's bytes from a position on: each header made again, each file opened at the position it is needed from.</summary>
    private sealed class ArchiveStream(FolderArchive archive, long position) : Stream
    {
        private int index = -1;
        private byte[]? header;
        private FileStream? file;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => archive.Length;

        public override long Position
        {
            get => position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length && position < archive.Length)
            {
                int n = ReadSome(buffer[total..]);
                position += n;
                total += n;
            }
            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>Some bytes at the current position, from one header, file, padding or the end-of-archive blocks.</summary>
        private int ReadSome(Span<byte> buffer)
        {
            var entries = archive.entries;
            if (index < 0 || index >= entries.Length || position >= entries[index].End || position < entries[index].Start) Locate();
            if (index >= entries.Length)
                return Zeros(buffer, archive.Length - position);
            var entry = entries[index];
            if (position < entry.DataStart)
            {
                header ??= Header(entry.Path, entry.Size, entry.IsDirectory);
                int at = (int)(position - entry.Start);
                int n = Math.Min(buffer.Length, header.Length - at);
                header.AsSpan(at, n).CopyTo(buffer);
                return n;
            }
            long inData = position - entry.DataStart;
            if (inData >= entry.Size) return Zeros(buffer, entry.End - position);
            var source = Open(entry);
            if (source.Position != inData) source.Position = inData;
            int read = source.Read(buffer[..(int)Math.Min(buffer.Length, entry.Size - inData)]);
            if (read == 0) throw Changed(entry);
            return read;
        }

        private void Locate()
        {
            file?.Dispose();
            file = null;
            header = null;
            var entries = archive.entries;
            int low = 0, high = entries.Length - 1;
            index = entries.Length;
            while (low <= high)
            {
                int middle = (low + high) / 2;
                if (entries[middle].End <= position) low = middle + 1;
                else
                {
                    index = middle;
                    high = middle - 1;
                }
            }
        }

        private FileStream Open(Entry entry)
        {
            if (file is not null) return file;
            var path = Path.Combine(archive.Folder, entry.Path);
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (file.Length != entry.Size || File.GetLastWriteTimeUtc(path) != entry.LastWriteUtc) throw Changed(entry);
            return file;
        }

        private IOException Changed(Entry entry) =>
            new($"{Path.Combine(archive.Folder, entry.Path)} changed after the folder was listed for packing; start the upload again");

        private static int Zeros(Span<byte> buffer, long available)
        {
            int n = (int)Math.Min(buffer.Length, available);
            buffer[..n].Clear();
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) file?.Dispose();
            base.Dispose(disposing);
        }
    }
}
