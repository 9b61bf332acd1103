namespace SqueezeNext.Vision.Data;

/// <summary>How a <see cref="BatchLoader"/> reads a dataset.</summary>
public sealed record LoaderOptions
{
    public int BatchSize { get; init; } = 32;

    /// <summary>Decoding threads; each builds whole batches.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Ready or in-progress batches allowed ahead of the consumer (bounds memory).</summary>
    public int Prefetch { get; init; } = Math.Max(2, Environment.ProcessorCount + 1);

    /// <summary>Shuffle per epoch (seeded by seed and epoch).</summary>
    public bool Shuffle { get; init; }

    /// <summary>Apply the training transform (random crop and flip) instead of the evaluation one.</summary>
    public bool Augment { get; init; }

    /// <summary>Skip the last incomplete batch of an epoch (training keeps every step the same size).</summary>
    public bool DropLast { get; init; }

    public long Seed { get; init; }
}
