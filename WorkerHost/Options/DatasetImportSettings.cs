using System.ComponentModel.DataAnnotations;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Data.Import;

namespace SqueezeNext.WorkerHost.Options;

/// <summary>Limits of dataset imports (section "Worker:Datasets"): every archive is treated as hostile.</summary>
public sealed class DatasetImportSettings
{
    /// <summary>Most entries one archive may hold.</summary>
    [Range(1, 10_000_000)]
    public int MaxArchiveEntries { get; set; } = 50_000;

    /// <summary>Most bytes one archive may expand to.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxExpandedBytes { get; set; } = 32L << 30;

    /// <summary>Most bytes out per byte in, past the first 8 MiB of an entry or of the archive.</summary>
    [Range(2.0, 100_000.0)]
    public double MaxCompressionRatio { get; set; } = 100;

    /// <summary>Share of each class split off for validation when an archive has no val/ and its command names none.</summary>
    [Range(0.0, 0.9)]
    public double ValidationFraction { get; set; } = 0.2;

    /// <summary>The import's limits, with the image limits that classification applies.</summary>
    public ImportOptions ToImportOptions(ClassificationOptions classification, int threads) => new()
    {
        MaxEntries = MaxArchiveEntries,
        MaxExpandedBytes = MaxExpandedBytes,
        MaxCompressionRatio = MaxCompressionRatio,
        ValidationFraction = ValidationFraction,
        Images = ImageLimits.Default with { MaxBytes = classification.MaxImageBytes, MaxPixels = classification.MaxImagePixels },
        Threads = threads,
    };
}
