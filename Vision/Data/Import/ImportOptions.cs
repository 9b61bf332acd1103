namespace SqueezeNext.Vision.Data.Import;

/// <summary>The limits and choices of one dataset import. Every archive is treated as hostile: these bound what it can cost.</summary>
public sealed record ImportOptions
{
    /// <summary>Most entries (files and folders) an archive may hold.</summary>
    public int MaxEntries { get; init; } = 50_000;

    /// <summary>Most bytes an archive may expand to, all entries together.</summary>
    public long MaxExpandedBytes { get; init; } = 32L << 30;

    /// <summary>Most bytes out per byte in, for one entry and for the whole archive, once past <see cref="RatioCheckAfterBytes"/>.</summary>
    public double MaxCompressionRatio { get; init; } = 100;

    /// <summary>Expanded bytes below which the ratio is not judged: small files of one colour compress far better than photos.</summary>
    public long RatioCheckAfterBytes { get; init; } = 8L << 20;

    /// <summary>Largest IDX file (Fashion-MNIST's training images are 47 MB).</summary>
    public long MaxIdxFileBytes { get; init; } = 1L << 30;

    /// <summary>The decoder's limits: the ones classification applies, so a dataset holds only images the system can serve.</summary>
    public ImageLimits Images { get; init; } = ImageLimits.Default;

    /// <summary>Share of each class moved to a validation split when the archive has none; 0 keeps one set of class folders that serves both.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Seed of the validation split: the same archive and seed give the same split.</summary>
    public int Seed { get; init; }

    public int ThumbnailsPerClass { get; init; } = 12;
    public int ThumbnailSize { get; init; } = 96;

    /// <summary>Threads that decode images to validate them.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Most skipped files listed one by one in the report (all are counted).</summary>
    public int MaxListedSkips { get; init; } = 1000;
}
