namespace SqueezeNext.Vision.Data.Import;

/// <summary>Why one file of an accepted archive was left out of the dataset.</summary>
public static class SkipReasons
{
    public const string NotAnImage = "not-an-image";
    public const string Undecodable = "undecodable";
    public const string OverLimits = "over-limits";
    public const string Duplicate = "duplicate";
    public const string EmptyClass = "empty-class";
    public const string OutsideClassFolder = "outside-class-folder";
    public const string SystemFile = "system-file";
    public const string NameTooLong = "name-too-long";
    public const string NameClash = "name-clash";
    public const string UnknownClass = "unknown-class";
}

public sealed record SkippedFile(string Path, string Reason, string Detail);

public sealed record ImportedClass(string Name, int Train, int Validation);

/// <summary>What an import kept, left out and why: stored with the dataset version and shown on its page.</summary>
public sealed record ImportReport
{
    public int Entries { get; init; }
    public long ExpandedBytes { get; init; }
    public IReadOnlyList<SkippedFile> Skipped { get; init; } = [];
    public IReadOnlyDictionary<string, int> SkippedByReason { get; init; } = new Dictionary<string, int>();
    public IReadOnlyList<string> EmptyClasses { get; init; } = [];

    /// <summary>The validation share split off by the import, when the archive had no validation split.</summary>
    public double? SplitFraction { get; init; }
    public int? SplitSeed { get; init; }

    /// <summary>Why the archive was refused, with its keyword; null when it was imported.</summary>
    public string? Refusal { get; init; }
}

/// <summary>A dataset written by an import: its layout, content digest, classes and counts.</summary>
public sealed record ImportedDataset(
    string Layout,
    string Digest,
    IReadOnlyList<ImportedClass> Classes,
    long Bytes,
    int TrainImages,
    int ValidationImages,
    ImportReport Report);

/// <summary>How far an import is: its phase ("extracting", "validating", "writing"), and done of total in that phase.</summary>
public sealed record ImportProgress(string Phase, long Done, long Total);
