using System.Text.Json;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Data;

/// <summary>A dataset as the list shows it: its newest ready version (a versioned dataset), the one importing, how many versions.</summary>
public sealed record DatasetRow(Dataset Dataset, DatasetVersion? Latest, DatasetVersion? Importing, int Versions)
{
    public bool IsVersioned => Dataset.Kind == DatasetKinds.Versioned;

    public int Classes => IsVersioned ? Latest?.Classes ?? 0 : Dataset.Classes;
    public int TrainImages => IsVersioned ? Latest?.TrainImages ?? 0 : Dataset.TrainImages;
    public int? ValidationImages => IsVersioned ? Latest?.ValidationImages : Dataset.ValidationImages;

    /// <summary>What a form's picker shows: the name, and its newest version or layout.</summary>
    public string Label => IsVersioned
        ? $"{Dataset.Name} (v{Latest?.Version}, {Latest?.Classes} classes, {Latest?.TrainImages:N0} images)"
        : $"{Dataset.Name} ({Dataset.Layout}, {Dataset.Classes} classes, {Dataset.TrainImages:N0} images)";
}

/// <summary>The images of one class in a version.</summary>
public sealed record DatasetClassCount(string Name, int Train, int Validation);

/// <summary>One file an import left out.</summary>
public sealed record SkippedFileView(string Path, string Reason, string Detail);

/// <summary>An import's report as the worker stored it (the engine's ImportReport, read without the engine).</summary>
public sealed record ImportReportView(
    int Entries, long ExpandedBytes, IReadOnlyList<SkippedFileView> Skipped, IReadOnlyDictionary<string, int> SkippedByReason,
    IReadOnlyList<string> EmptyClasses, double? SplitFraction, int? SplitSeed);

/// <summary>Reading a version's JSON columns, and how sizes and digests are shown.</summary>
public static class DatasetDisplay
{
    public static IReadOnlyList<DatasetClassCount> Classes(DatasetVersion version) =>
        JsonSerializer.Deserialize<List<DatasetClassCount>>(version.ClassesJson, JsonSerializerOptions.Web) ?? [];

    public static ImportReportView? Report(string? reportJson) =>
        reportJson is { } json ? JsonSerializer.Deserialize<ImportReportView>(json, JsonSerializerOptions.Web) : null;

    public static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    public static string ShortDigest(string? digest) => digest is { Length: >= 12 } ? digest[..12] : digest ?? "";

    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MB",
        >= 1L << 10 => $"{bytes / 1024.0:F0} kB",
        _ => $"{bytes} B",
    };
}
