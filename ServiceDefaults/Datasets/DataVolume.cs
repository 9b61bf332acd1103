using System.Text.RegularExpressions;

namespace SqueezeNext.ServiceDefaults.Datasets;

/// <summary>
/// The layout of the shared data volume, which the dashboard writes uploads into and the workers read datasets from:
/// <list type="bullet">
/// <item><c>&lt;name&gt;/</c>: folder datasets an operator placed by hand;</item>
/// <item><c>incoming/</c>: archives and folders an operator copied in, to import without uploading them;</item>
/// <item><c>.uploads/</c>: resumable uploads in progress or waiting for their import;</item>
/// <item><c>.staging/</c>: imports being written (renamed into place when done);</item>
/// <item><c>.datasets/&lt;name&gt;/</c>: the versions of versioned datasets, one folder each.</item>
/// </list>
/// The hidden names are outside the pattern of dataset names, so no folder scan lists them.
/// </summary>
public sealed partial class DataVolume(string root)
{
    public const string Incoming = "incoming";
    public const string Uploads = ".uploads";
    public const string Staging = ".staging";
    public const string Versions = ".datasets";

    /// <summary>An upload's bytes and its record (the dashboard's UploadStore writes both; a worker reads the bytes and deletes both once imported).</summary>
    public const string UploadBytesExtension = ".part", UploadRecordExtension = ".json";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[0-9a-f]{32}\z")]
    private static partial Regex UploadIdPattern();

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Why a name cannot be a dataset's, or null: one folder name of letters, digits, '.', '_' and '-', not a reserved one.</summary>
    public static string? InvalidName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "no dataset named";
        if (!NamePattern().IsMatch(name) || name.Contains("..", StringComparison.Ordinal))
            return $"dataset name '{(name.Length > 60 ? name[..60] + "..." : name)}' is not a folder name (letters, digits, '.', '_' and '-'; at most 100; no paths)";
        if (name == Incoming) return $"'{Incoming}' is reserved for archives waiting to be imported";
        return null;
    }

    public static bool IsUploadId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id) => id is not null && UploadIdPattern().IsMatch(id);

    public string UploadsFolder => Path.Combine(Root, Uploads);
    public string UploadFile(string id) => Path.Combine(UploadsFolder, Checked(id) + UploadBytesExtension);
    public string UploadInfoFile(string id) => Path.Combine(UploadsFolder, Checked(id) + UploadRecordExtension);
    public string IncomingFolder => Path.Combine(Root, Incoming);
    public string StagingFolder => Path.Combine(Root, Staging);
    public string VersionsFolder(string dataset) => Path.Combine(Root, Versions, dataset);

    /// <summary>A path relative to the root, as the database keeps it.</summary>
    public string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    /// <summary>
    /// A file or folder under <c>incoming/</c> named by a relative path, or why it may not be used: it must stay inside
    /// <c>incoming/</c> after resolving, and neither it nor a folder on the way may be a link.
    /// </summary>
    public (string? Path, string? Problem) ResolveIncoming(string? relative)
    {
        if (string.IsNullOrWhiteSpace(relative)) return (null, "no path under incoming/ named");
        if (relative.Any(char.IsControl)) return (null, "the path has a control character");
        var trimmed = relative.Replace('\\', '/');
        if (trimmed.StartsWith(Incoming + "/", StringComparison.Ordinal)) trimmed = trimmed[(Incoming.Length + 1)..];
        if (trimmed.StartsWith('/') || trimmed.Split('/').Any(s => s == ".."))
            return (null, $"'{relative}' is not a path inside {Incoming}/");
        var incoming = IncomingFolder;
        var full = Path.GetFullPath(Path.Combine(incoming, trimmed));
        if (!full.StartsWith(incoming + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return (null, $"'{relative}' is not a path inside {Incoming}/");
        for (var current = full; current.Length > incoming.Length; current = Path.GetDirectoryName(current)!)
        {
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (!info.Exists) return (null, $"there is no '{Relative(full)}' on the data volume");
            if (info.LinkTarget is not null) return (null, $"'{Relative(current)}' is a link; imports do not follow links");
        }
        return (full, null);
    }

    private static string Checked(string id) =>
        IsUploadId(id) ? id : throw new ArgumentException($"'{id}' is not an upload id (32 hexadecimal digits)", nameof(id));
}
