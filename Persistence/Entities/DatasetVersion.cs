namespace SqueezeNext.Persistence.Entities;

public enum DatasetVersionStatus
{
    Importing,
    Ready,
    Failed,

    /// <summary>Deleted by an admin: its files are gone, and the row stays so that its number is never given again.</summary>
    Deleted,
}

/// <summary>
/// One version of a versioned dataset: immutable once ready, known by its content digest (the SHA-256 of its manifest
/// of paths and file hashes). The import run that made it is an ordinary run of kind Import.
/// </summary>
public sealed class DatasetVersion
{
    public int Id { get; set; }
    public string DatasetName { get; set; } = "";
    public int Version { get; set; }
    public DatasetVersionStatus Status { get; set; }

    /// <summary>SHA-256 (hex) of the version's manifest; null until ready.</summary>
    public string? Digest { get; set; }

    /// <summary>"class-folders", "split-folders", "imagenet" or "idx".</summary>
    public string? Layout { get; set; }

    /// <summary>The classes in label order with their image counts per split (jsonb: [{name, train, validation}]).</summary>
    public string ClassesJson { get; set; } = "[]";
    public int Classes { get; set; }
    public int TrainImages { get; set; }
    public int ValidationImages { get; set; }
    public long SizeBytes { get; set; }

    /// <summary>Where it came from: "upload", "file" (an archive on the data volume), "folder" or "imagenet".</summary>
    public string Source { get; set; } = "";

    /// <summary>The uploaded file's name, or the path under the data root it was imported from.</summary>
    public string SourceName { get; set; } = "";

    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReadyAt { get; set; }

    /// <summary>The import report (jsonb): what was left out and why, the split made.</summary>
    public string? ReportJson { get; set; }
    public string? Error { get; set; }

    /// <summary>The import run, which carries the progress and the events.</summary>
    public Guid ImportRunId { get; set; }

    /// <summary>The version's folder relative to the data root; set when it is ready.</summary>
    public string? Path { get; set; }
}
