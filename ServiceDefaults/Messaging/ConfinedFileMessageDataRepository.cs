using MassTransit;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>
/// Message data in a shared folder. Written here rather than taken from MassTransit's file system repository because
/// that one follows any address a message names, "../" included, and reads files of any size: here an address must
/// name a file inside the folder, no larger than <see cref="MessageDataOptions.MaxReadBytes"/>.
/// </summary>
public sealed class ConfinedFileMessageDataRepository : IMessageDataRepository
{
    private const string Scheme = "urn:sqnxt-data:";
    private readonly string root;
    private readonly long maxReadBytes;

    public ConfinedFileMessageDataRepository(string directory, long maxReadBytes)
    {
        root = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(root);
        this.maxReadBytes = maxReadBytes;
    }

    public string Root => root;

    /// <summary>The size of a stored payload, without reading it.</summary>
    public long LengthOf(Uri address)
    {
        var file = new FileInfo(PathOf(address));
        return file.Exists ? file.Length : throw new MessageDataException($"message data {address} is not in the store (expired, or the store is not shared with the sender)");
    }

    public Task<Stream> Get(Uri address, CancellationToken cancellationToken = default)
    {
        var path = PathOf(address);
        var file = new FileInfo(path);
        if (!file.Exists) throw new MessageDataException($"message data {address} is not in the store (expired, or the store is not shared with the sender)");
        if (file.Length > maxReadBytes) throw new MessageDataException($"message data {address} has {file.Length:N0} bytes; at most {maxReadBytes:N0} are read");
        return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous));
    }

    public async Task<Uri> Put(Stream stream, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        // Day folders, so the sweep can drop whole days; the name is random, so no sender can guess another's data.
        var relative = Path.Combine(DateTime.UtcNow.ToString("yyyy-MM-dd"), Guid.NewGuid().ToString("N"));
        var path = Path.Combine(root, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".partial";
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            await stream.CopyToAsync(file, cancellationToken);
        File.Move(temporary, path);
        return new Uri(Scheme + relative.Replace(Path.DirectorySeparatorChar, '/'));
    }

    /// <summary>Deletes stored payloads older than <paramref name="age"/> and empty day folders; returns how many files went.</summary>
    public int DeleteOlderThan(TimeSpan age)
    {
        var cutoff = DateTime.UtcNow - age;
        int deleted = 0;
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            if (file.LastWriteTimeUtc >= cutoff) continue;
            try
            {
                file.Delete();
                deleted++;
            }
            catch (IOException)
            {
                // Another worker's sweep took it first.
            }
        }
        foreach (var folder in new DirectoryInfo(root).EnumerateDirectories())
            if (!folder.EnumerateFileSystemInfos().Any())
                try { folder.Delete(); } catch (IOException) { }
        return deleted;
    }

    private string PathOf(Uri address)
    {
        var text = address.OriginalString;
        if (!text.StartsWith(Scheme, StringComparison.Ordinal)) throw new MessageDataException($"message data address {text} is not one of this store's");
        var path = Path.GetFullPath(Path.Combine(root, text[Scheme.Length..]));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new MessageDataException($"message data address {text} points outside the store");
        return path;
    }
}
