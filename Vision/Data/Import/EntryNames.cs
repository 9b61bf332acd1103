using System.Text;

namespace SqueezeNext.Vision.Data.Import;

/// <summary>
/// Turns an archive entry's name into a safe relative path ('/'-separated, no '.' or '..' segments), or refuses the
/// archive: a name that climbs out (zip-slip), starts at the root, is not UTF-8 or holds control characters is never
/// a mistake in a dataset, so the whole archive is suspect.
/// </summary>
public static class EntryNames
{
    /// <summary>Longest segment in UTF-8 bytes (the file system's limit) and longest whole path in characters.</summary>
    public const int MaxSegmentBytes = 255, MaxPathLength = 1024;

    /// <summary>Deepest path taken: a dataset needs a handful of levels, and a deep name costs its square in folder prefixes.</summary>
    public const int MaxSegments = 32;

    private static readonly HashSet<string> SystemNames = new(StringComparer.OrdinalIgnoreCase) { ".DS_Store", "Thumbs.db", "desktop.ini" };

    public static string Normalise(string name)
    {
        if (name.Length > MaxPathLength)
            throw new ImportRefusedException(ImportRefusal.NameTooLong, $"entry '{Printable(name)}' has a name of {name.Length:N0} characters, over {MaxPathLength:N0}");
        // Decoders put U+FFFD where bytes were not UTF-8 (the zip and tar readers replace invalid bytes).
        if (name.Contains('\uFFFD'))
            throw new ImportRefusedException(ImportRefusal.NotUtf8, $"entry '{Printable(name)}' has a name that is not valid UTF-8");
        foreach (char c in name)
        {
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F))
                throw new ImportRefusedException(ImportRefusal.ControlCharacter, $"entry '{Printable(name)}' has a control character (U+{(int)c:X4}) in its name");
            // Bidirectional overrides and zero-width characters make names that look like others.
            if (char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format)
                throw new ImportRefusedException(ImportRefusal.ControlCharacter, $"entry '{Printable(name)}' has an invisible formatting character (U+{(int)c:X4}) in its name");
        }
        // Two spellings of one name (é as one code point or two) are one name.
        try
        {
            name = name.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            throw new ImportRefusedException(ImportRefusal.NotUtf8, $"entry '{Printable(name)}' has a name that is not valid Unicode");
        }
        var path = name.Replace('\\', '/');
        if (path.StartsWith('/') || (path.Length >= 2 && char.IsAsciiLetter(path[0]) && path[1] == ':'))
            throw new ImportRefusedException(ImportRefusal.AbsolutePath, $"entry '{Printable(name)}' has an absolute path");
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        if (segments.Contains(".."))
            throw new ImportRefusedException(ImportRefusal.PathTraversal, $"entry '{Printable(name)}' climbs out of the archive with '..'");
        if (segments.Count > MaxSegments)
            throw new ImportRefusedException(ImportRefusal.NameTooLong, $"entry '{Printable(name)}' is {segments.Count} folders deep, over {MaxSegments}");
        return string.Join('/', segments);
    }

    /// <summary>Why a safe path is still not one the dataset can hold, or null.</summary>
    public static string? Unusable(string path)
    {
        if (path.Length > MaxPathLength || path.Split('/').Any(s => Encoding.UTF8.GetByteCount(s) > MaxSegmentBytes))
            return SkipReasons.NameTooLong;
        return IsSystemFile(path) ? SkipReasons.SystemFile : null;
    }

    /// <summary>Files that operating systems and archivers add beside the user's (macOS forks, thumbnail caches) and hidden files.</summary>
    public static bool IsSystemFile(string path)
    {
        var segments = path.Split('/');
        return segments.Any(s => s.StartsWith('.') || s == "__MACOSX") || SystemNames.Contains(segments[^1]);
    }

    /// <summary>A name as it may be shown: control characters escaped, long names cut.</summary>
    public static string Printable(string name)
    {
        var text = new StringBuilder();
        foreach (char c in name.Length > 200 ? name[..200] + "..." : name)
            text.Append(c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format
                ? $"\\u{(int)c:x4}" : c.ToString());
        return text.ToString();
    }
}
