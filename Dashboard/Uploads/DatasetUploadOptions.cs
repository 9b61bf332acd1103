using System.ComponentModel.DataAnnotations;

namespace SqueezeNext.Dashboard.Uploads;

/// <summary>
/// Where dataset uploads land and how large and how stale they may get (section "Datasets"): the data root is the
/// volume the workers read as Worker:DataRoot, so an imported dataset needs no second copy.
/// </summary>
public sealed class DatasetUploadOptions
{
    public const string Section = "Datasets";

    /// <summary>The shared data volume; uploads live in its <see cref="UploadStore.FolderName"/> folder.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataRoot { get; set; } = "/data";

    /// <summary>The largest upload accepted (tus's Tus-Max-Size).</summary>
    [Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 20L * 1024 * 1024 * 1024;

    /// <summary>An unfinished upload that received no bytes for this long is deleted.</summary>
    public TimeSpan IncompleteUploadExpiry { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A finished upload that no import took (workers delete the ones they import) is deleted after this long.</summary>
    public TimeSpan CompletedUploadExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Most bytes all uploads on the volume may hold together, finished or not: uploads past it are refused (507) until imports make room.</summary>
    [Range(1, long.MaxValue)]
    public long MaxStoredUploadBytes { get; set; } = 100L * 1024 * 1024 * 1024;
}
