using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.Extensions.Options;
using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.Dashboard.Uploads;

/// <summary>
/// The one owner of the upload files in <c>&lt;DataRoot&gt;/.uploads</c>: <c>&lt;id&gt;.part</c> holds the bytes and
/// <c>&lt;id&gt;.json</c> the <see cref="UploadInfo"/>. Ids are 32 lowercase hex digits, checked before any path is
/// built from one; nothing in the folder that is a link is read, written or deleted, and nothing outside it is touched.
/// </summary>
public sealed class UploadStore(IOptions<DatasetUploadOptions> options, TimeProvider clock, ILogger<UploadStore> logger)
{
    public const string FolderName = DataVolume.Uploads;
    private const string PartExtension = DataVolume.UploadBytesExtension;
    private const string InfoExtension = DataVolume.UploadRecordExtension;
    private const string TemporaryExtension = ".json.tmp";

    /// <summary>The bounded buffer a PATCH body is copied through on its way to the file.</summary>
    private const int CopyBufferBytes = 256 * 1024;

    /// <summary>
    /// How long a PATCH or DELETE waits for another request on the same upload: a client that lost its connection
    /// resumes at once, while the server may still be finishing the cut-off PATCH.
    /// </summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromSeconds(2);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly UploadLocks locks = new();

    public DatasetUploadOptions Options => options.Value;

    public string Folder => Path.Combine(Path.GetFullPath(options.Value.DataRoot), FolderName);

    public static bool IsValidId([NotNullWhen(true)] string? id) => DataVolume.IsUploadId(id);

    /// <summary>A new, empty upload of <paramref name="length"/> bytes owned by <paramref name="accountName"/>; null when the uploads on the volume would hold more than <see cref="DatasetUploadOptions.MaxStoredUploadBytes"/>.</summary>
    /// <exception cref="UploadStoreUnavailableException">The data root is missing or cannot be written.</exception>
    public UploadInfo? Create(long length, IReadOnlyDictionary<string, string> metadata, string accountName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        EnsureFolder();
        if (StoredBytes() + length > options.Value.MaxStoredUploadBytes) return null;
        var info = new UploadInfo(Guid.NewGuid().ToString("N"), length, metadata, accountName, clock.GetUtcNow());
        try
        {
            // The bytes file first: a record without one would name an upload that cannot be written, while a bytes
            // file without a record is an orphan the sweeper deletes.
            using (new FileStream(PathOf(info.Id, PartExtension), FileMode.CreateNew, FileAccess.Write)) { }
            var temporary = PathOf(info.Id, TemporaryExtension);
            File.WriteAllText(temporary, JsonSerializer.Serialize(info, Json));
            File.Move(temporary, PathOf(info.Id, InfoExtension));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UploadStoreUnavailableException($"cannot create an upload in {Folder}: {e.Message}");
        }
        logger.LogInformation("Upload {UploadId} of {Length} bytes created for {Account} ({FileName})", info.Id, length, accountName, info.FileName);
        return info with { Offset = 0, LastWriteAt = info.CreatedAt, ExpiresAt = length == 0 ? null : info.CreatedAt + options.Value.IncompleteUploadExpiry };
    }

    /// <summary>The upload, if it exists and belongs to <paramref name="accountName"/>; another account's is null, as an unknown one.</summary>
    public UploadInfo? Find(string id, string accountName) => Read(id) is { } info && info.AccountName == accountName ? info : null;

    /// <summary>The file that holds a completed upload's bytes (its length is <see cref="UploadInfo.Length"/>), or null while incomplete or unknown.</summary>
    public string? CompletedPath(string id, string accountName) => Find(id, accountName) is { IsComplete: true } upload ? PathOf(upload.Id, PartExtension) : null;

    /// <summary>Deletes an upload's files, whoever owns it; false when there was nothing to delete.</summary>
    public bool Delete(string id) => IsValidId(id) && DeleteFiles(id);

    /// <summary>
    /// Appends <paramref name="body"/> at <paramref name="offset"/>, which must be the bytes received so far. A body
    /// cut off on the way keeps what arrived; one longer than the upload is refused whole. The bytes are on disk when
    /// this returns.
    /// </summary>
    public async Task<AppendResult> AppendAsync(string id, string accountName, long offset, long? contentLength, Stream body, CancellationToken cancellationToken)
    {
        if (!IsValidId(id)) return new AppendResult(AppendOutcome.NotFound, 0);
        using var held = await locks.TryEnterAsync(id, LockWait, cancellationToken);
        if (held is null) return new AppendResult(AppendOutcome.Busy, offset);
        var upload = Find(id, accountName);
        if (upload is null) return new AppendResult(AppendOutcome.NotFound, 0);
        if (upload.IsExpiredAt(clock.GetUtcNow())) return new AppendResult(AppendOutcome.Gone, upload.Offset);
        if (offset != upload.Offset) return new AppendResult(AppendOutcome.OffsetMismatch, upload.Offset);
        long room = upload.Length - offset;
        if (contentLength > room) return new AppendResult(AppendOutcome.TooLong, offset);

        FileStream file;
        try
        {
            // Unbuffered, so that what was written is known exactly; FileShare.None also takes the file's lock, which
            // keeps out a writer in another dashboard replica sharing the volume.
            file = new FileStream(PathOf(id, PartExtension), new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0, Options = FileOptions.Asynchronous,
            });
        }
        catch (FileNotFoundException)
        {
            return new AppendResult(AppendOutcome.NotFound, 0);
        }
        catch (IOException)
        {
            return new AppendResult(AppendOutcome.Busy, offset);
        }

        await using (file)
        {
            if (file.Length != offset) return new AppendResult(AppendOutcome.OffsetMismatch, file.Length);
            file.Position = offset;
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
            long written = 0;
            try
            {
                while (true)
                {
                    int read;
                    try
                    {
                        // One byte more than there is room for, to notice a body longer than the upload.
                        read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, room - written + 1)), cancellationToken);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException)
                    {
                        // Kestrel's BadHttpRequestException for a body cut short is an IOException too.
                        logger.LogInformation("Upload {UploadId}: the request was cut off after {Bytes} bytes of this PATCH ({Reason}); they are kept", id, written, e.Message);
                        break;
                    }
                    if (read == 0) break;
                    if (written + read > room)
                    {
                        file.SetLength(offset);
                        return new AppendResult(AppendOutcome.TooLong, offset);
                    }
                    try
                    {
                        await file.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None);
                    }
                    catch (IOException e)
                    {
                        logger.LogError(e, "Upload {UploadId}: writing to {Folder} failed after {Bytes} bytes of this PATCH", id, Folder, written);
                        TryTruncate(file, offset + written);
                        return new AppendResult(AppendOutcome.StorageFailed, offset + written);
                    }
                    written += read;
                }
                file.Flush(flushToDisk: true);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            long now = offset + written;
            if (now == upload.Length)
            {
                logger.LogInformation("Upload {UploadId} of {Account} is complete: {Length} bytes ({FileName})", id, accountName, upload.Length, upload.FileName);
                return new AppendResult(AppendOutcome.Appended, now);
            }
            return new AppendResult(AppendOutcome.Appended, now, clock.GetUtcNow() + options.Value.IncompleteUploadExpiry);
        }
    }

    /// <summary>Deletes the account's upload (tus termination), waiting briefly for a PATCH still writing to it.</summary>
    public async Task<DeleteOutcome> DeleteAsync(string id, string accountName, CancellationToken cancellationToken)
    {
        if (!IsValidId(id)) return DeleteOutcome.NotFound;
        using var held = await locks.TryEnterAsync(id, LockWait, cancellationToken);
        if (held is null) return DeleteOutcome.Busy;
        if (Find(id, accountName) is null) return DeleteOutcome.NotFound;
        DeleteFiles(id);
        logger.LogInformation("Upload {UploadId} of {Account} deleted", id, accountName);
        return DeleteOutcome.Deleted;
    }

    /// <summary>
    /// Deletes unfinished uploads that received nothing for <see cref="DatasetUploadOptions.IncompleteUploadExpiry"/>,
    /// finished ones left unimported for <see cref="DatasetUploadOptions.CompletedUploadExpiry"/>, and leftovers of
    /// creations that never finished; returns how many uploads went. Links and names this store does not
    /// make are left alone.
    /// </summary>
    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var folder = new DirectoryInfo(Folder);
        if (!folder.Exists) return 0;
        if (folder.LinkTarget is not null)
        {
            logger.LogWarning("{Folder} is a link: uploads are neither kept nor swept there", folder.FullName);
            return 0;
        }
        var now = clock.GetUtcNow();
        var expiry = options.Value.IncompleteUploadExpiry;
        int deleted = 0;
        var entries = folder.EnumerateFileSystemInfos().Select(entry => (Entry: entry, Id: IdOf(entry.Name))).Where(e => e.Id is not null).ToList();
        foreach (var upload in entries.GroupBy(e => e.Id!, e => e.Entry))
        {
            if (upload.FirstOrDefault(e => e.LinkTarget is not null || e is DirectoryInfo) is { } odd)
            {
                logger.LogWarning("Not sweeping upload {UploadId}: {Entry} is a link or a folder", upload.Key, odd.FullName);
                continue;
            }
            // A finished upload nobody imported (its import was refused, or never asked for) goes after a longer while.
            bool expired = Read(upload.Key) is { } info
                ? info.IsExpiredAt(now) || (info.IsComplete && info.LastWriteAt + options.Value.CompletedUploadExpiry <= now)
                : upload.All(e => new DateTimeOffset(e.LastWriteTimeUtc) + expiry <= now);
            if (!expired) continue;
            using var held = await locks.TryEnterAsync(upload.Key, TimeSpan.Zero, cancellationToken);
            if (held is null) continue;
            if (DeleteFiles(upload.Key)) deleted++;
        }
        return deleted;
    }

    /// <summary>What the uploads on the volume will hold once finished: the lengths their records declare.</summary>
    public long StoredBytes() =>
        new DirectoryInfo(Folder).EnumerateFiles("*" + InfoExtension).Select(f => IdOf(f.Name)).Where(id => id is not null)
            .Sum(id => Read(id!)?.Length ?? 0);

    private UploadInfo? Read(string id)
    {
        if (!IsValidId(id)) return null;
        var folder = new DirectoryInfo(Folder);
        if (!folder.Exists || folder.LinkTarget is not null) return null;
        var record = RegularFile(PathOf(id, InfoExtension));
        var part = RegularFile(PathOf(id, PartExtension));
        if (record is null || part is null) return null;
        UploadInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<UploadInfo>(File.ReadAllText(record.FullName), Json);
        }
        catch (JsonException e)
        {
            logger.LogWarning("Upload {UploadId}: its record {File} cannot be read ({Reason})", id, record.FullName, e.Message);
            return null;
        }
        catch (IOException)
        {
            // Deleted meanwhile.
            return null;
        }
        if (info is null || info.Id != id || info.Metadata is null) return null;
        var written = new DateTimeOffset(part.LastWriteTimeUtc);
        var lastWrite = written > info.CreatedAt ? written : info.CreatedAt;
        bool complete = part.Length == info.Length;
        return info with { Offset = part.Length, LastWriteAt = lastWrite, ExpiresAt = complete ? null : lastWrite + options.Value.IncompleteUploadExpiry };
    }

    private bool DeleteFiles(string id)
    {
        bool any = false;
        // The record first: a bytes file left behind by a crash here is an orphan that the sweeper deletes.
        foreach (var extension in new[] { InfoExtension, TemporaryExtension, PartExtension })
        {
            var file = new FileInfo(PathOf(id, extension));
            if (file.LinkTarget is not null)
            {
                logger.LogWarning("Not deleting {File}: it is a link", file.FullName);
                continue;
            }
            if (!file.Exists) continue;
            try
            {
                file.Delete();
                any = true;
            }
            catch (IOException e)
            {
                logger.LogWarning("Could not delete {File}: {Reason}", file.FullName, e.Message);
            }
        }
        return any;
    }

    private void EnsureFolder()
    {
        var root = Path.GetFullPath(options.Value.DataRoot);
        if (!Directory.Exists(root))
            throw new UploadStoreUnavailableException($"the data root {root} does not exist on the dashboard's host (setting {DatasetUploadOptions.Section}:DataRoot)");
        var folder = new DirectoryInfo(Path.Combine(root, FolderName));
        if (folder.LinkTarget is not null) throw new UploadStoreUnavailableException($"{folder.FullName} is a link; uploads are only kept in a real folder");
        try
        {
            folder.Create();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UploadStoreUnavailableException($"cannot create {folder.FullName}: {e.Message}");
        }
    }

    private string PathOf(string id, string extension) =>
        IsValidId(id) ? Path.Combine(Folder, id + extension) : throw new ArgumentException($"'{id}' is not an upload id", nameof(id));

    /// <summary>The id in a file name this store makes, else null.</summary>
    private static string? IdOf(string name)
    {
        foreach (var extension in new[] { PartExtension, InfoExtension, TemporaryExtension })
            if (name.EndsWith(extension, StringComparison.Ordinal) && name[..^extension.Length] is var id && IsValidId(id))
                return id;
        return null;
    }

    private static FileInfo? RegularFile(string path)
    {
        var file = new FileInfo(path);
        return file.LinkTarget is null && file.Exists ? file : null;
    }

    private void TryTruncate(FileStream file, long length)
    {
        try
        {
            file.SetLength(length);
        }
        catch (IOException e)
        {
            logger.LogError("Could not cut {File} back to {Length} bytes: {Reason}", file.Name, length, e.Message);
        }
    }
}

public enum AppendOutcome
{
    Appended,
    NotFound,
    /// <summary>Unfinished past its expiry.</summary>
    Gone,
    OffsetMismatch,
    /// <summary>Another request is writing to the upload.</summary>
    Busy,
    /// <summary>The body is longer than the upload has room for; nothing of it was kept.</summary>
    TooLong,
    StorageFailed,
}

/// <summary>What a PATCH did: the upload's offset afterwards, and when it expires unless more bytes come.</summary>
public sealed record AppendResult(AppendOutcome Outcome, long Offset, DateTimeOffset? ExpiresAt = null);

public enum DeleteOutcome
{
    Deleted,
    NotFound,
    Busy,
}

/// <summary>The data root is missing, not writable, or its upload folder is a link: the operator's to fix.</summary>
public sealed class UploadStoreUnavailableException(string message) : Exception(message);
