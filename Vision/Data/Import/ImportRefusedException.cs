namespace SqueezeNext.Vision.Data.Import;

/// <summary>Why a whole archive is refused. The kebab-case name (<see cref="ImportRefusedException.Keyword"/>) is what reports and tests match on.</summary>
public enum ImportRefusal
{
    PathTraversal,
    AbsolutePath,
    Link,
    Device,
    TooLarge,
    Ratio,
    TooManyEntries,
    Corrupt,
    NotUtf8,
    ControlCharacter,
    UnsupportedFormat,
    NoImages,
    NameTooLong,
}

/// <summary>An archive or folder the import refuses as a whole, with the reason and the entry that caused it.</summary>
public sealed class ImportRefusedException(ImportRefusal reason, string message, Exception? inner = null)
    : Exception($"{message} [{KeywordOf(reason)}]", inner)
{
    public ImportRefusal Reason { get; } = reason;

    public string Keyword => KeywordOf(Reason);

    public static string KeywordOf(ImportRefusal reason) => reason switch
    {
        ImportRefusal.PathTraversal => "path-traversal",
        ImportRefusal.AbsolutePath => "absolute-path",
        ImportRefusal.Link => "link",
        ImportRefusal.Device => "device",
        ImportRefusal.TooLarge => "too-large",
        ImportRefusal.Ratio => "ratio",
        ImportRefusal.TooManyEntries => "too-many-entries",
        ImportRefusal.Corrupt => "corrupt",
        ImportRefusal.NotUtf8 => "not-utf8",
        ImportRefusal.ControlCharacter => "control-character",
        ImportRefusal.UnsupportedFormat => "unsupported-format",
        ImportRefusal.NoImages => "no-images",
        ImportRefusal.NameTooLong => "name-too-long",
        _ => reason.ToString(),
    };
}
