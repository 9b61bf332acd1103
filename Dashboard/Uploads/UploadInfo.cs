using System.Text.Json.Serialization;

namespace SqueezeNext.Dashboard.Uploads;

/// <summary>
/// One upload as its <c>&lt;id&gt;.json</c> file records it (length, tus metadata, owner, creation time), with what
/// the bytes file tells: the offset is its length, so the record is written once and never rewritten.
/// </summary>
public sealed record UploadInfo(string Id, long Length, IReadOnlyDictionary<string, string> Metadata, string AccountName, DateTimeOffset CreatedAt)
{
    /// <summary>The tus metadata key that names the uploaded file.</summary>
    public const string FileNameKey = "filename";

    /// <summary>Bytes received so far.</summary>
    [JsonIgnore]
    public long Offset { get; init; }

    /// <summary>When the last bytes arrived (the creation time before any did).</summary>
    [JsonIgnore]
    public DateTimeOffset LastWriteAt { get; init; }

    /// <summary>When an unfinished upload is deleted; null once complete.</summary>
    [JsonIgnore]
    public DateTimeOffset? ExpiresAt { get; init; }

    [JsonIgnore]
    public bool IsComplete => Offset == Length;

    /// <summary>The client's name for the file, when it sent one.</summary>
    [JsonIgnore]
    public string? FileName => Metadata.TryGetValue(FileNameKey, out var name) ? name : null;

    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } expires && expires <= now;
}
