using System.Globalization;
using System.Text;

namespace SqueezeNext.Dashboard.Uploads;

/// <summary>The tus 1.0 header names and values, and the Upload-Metadata encoding (comma-separated "key base64value" pairs).</summary>
public static class TusProtocol
{
    public const string Version = "1.0.0";
    public const string Extensions = "creation,termination,expiration";
    public const string OffsetContentType = "application/offset+octet-stream";

    public const string ResumableHeader = "Tus-Resumable";
    public const string VersionHeader = "Tus-Version";
    public const string ExtensionHeader = "Tus-Extension";
    public const string MaxSizeHeader = "Tus-Max-Size";
    public const string LengthHeader = "Upload-Length";
    public const string DeferLengthHeader = "Upload-Defer-Length";
    public const string OffsetHeader = "Upload-Offset";
    public const string MetadataHeader = "Upload-Metadata";
    public const string ExpiresHeader = "Upload-Expires";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A length or offset: digits only, no sign, no spaces.</summary>
    public static bool TryParseNumber(string? value, out long number) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number);

    /// <summary>An RFC 9110 date, as Upload-Expires carries it.</summary>
    public static string FormatDate(DateTimeOffset time) => time.ToUniversalTime().ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Upload-Metadata: keys non-empty without spaces or commas, unique; values base64 of UTF-8 text, or absent.</summary>
    public static bool TryParseMetadata(string? header, out Dictionary<string, string> metadata, out string? problem)
    {
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        problem = null;
        if (string.IsNullOrWhiteSpace(header)) return true;
        foreach (var pair in header.Split(','))
        {
            var parts = pair.Trim().Split(' ');
            if (parts.Length > 2 || parts[0].Length == 0 || !parts[0].All(char.IsAscii))
            {
                problem = $"'{pair.Trim()}' is not a key (ASCII, no spaces or commas) with an optional base64 value";
                return false;
            }
            string value = "";
            if (parts.Length == 2)
            {
                try
                {
                    value = StrictUtf8.GetString(Convert.FromBase64String(parts[1]));
                }
                catch (Exception e) when (e is FormatException or DecoderFallbackException)
                {
                    problem = $"the value of '{parts[0]}' is not base64 of UTF-8 text";
                    return false;
                }
            }
            if (!metadata.TryAdd(parts[0], value))
            {
                problem = $"'{parts[0]}' is given twice";
                return false;
            }
        }
        return true;
    }

    public static string FormatMetadata(IReadOnlyDictionary<string, string> metadata) =>
        string.Join(',', metadata.Select(pair => pair.Value.Length == 0 ? pair.Key : $"{pair.Key} {Convert.ToBase64String(Encoding.UTF8.GetBytes(pair.Value))}"));
}
