namespace SqueezeNext.Vision.Data;

/// <summary>A sample the loader skipped because it could not be decoded; training goes on without it.</summary>
public sealed record SampleFailure(int SampleIndex, string Name, string Reason);

/// <summary>
/// A batch of pre-processed images in CHW float order, ready to copy into a tensor. Its buffer comes from the
/// loader's pool: dispose the batch once the tensor is made.
/// </summary>
public sealed class Batch : IDisposable
{
    private readonly Action<float[]>? returnBuffer;
    private float[]? images;

    internal Batch(int epoch, int index, int count, int valuesPerImage, float[] images, long[] labels, int[] sampleIndices,
        IReadOnlyList<SampleFailure> failures, Action<float[]>? returnBuffer)
    {
        Epoch = epoch;
        Index = index;
        Count = count;
        ValuesPerImage = valuesPerImage;
        this.images = images;
        Labels = labels;
        SampleIndices = sampleIndices;
        Failures = failures;
        this.returnBuffer = returnBuffer;
    }

    public int Epoch { get; }

    /// <summary>Position of this batch within its epoch (from 0).</summary>
    public int Index { get; }

    /// <summary>Images in the batch (fewer than the batch size when samples failed or at the end of an epoch).</summary>
    public int Count { get; }

    public int ValuesPerImage { get; }

    /// <summary>Count × 3 × S × S floats; the buffer may be longer.</summary>
    public ReadOnlySpan<float> Images => (images ?? throw new ObjectDisposedException(nameof(Batch))).AsSpan(0, Count * ValuesPerImage);

    /// <summary>The first <paramref name="count"/> images, each 3 × S × S floats of the batch's buffer.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> ImageList(int count)
    {
        var buffer = images ?? throw new ObjectDisposedException(nameof(Batch));
        return Enumerable.Range(0, Math.Min(count, Count)).Select(i => new ReadOnlyMemory<float>(buffer, i * ValuesPerImage, ValuesPerImage)).ToArray();
    }

    /// <summary>Labels of the images, Count long.</summary>
    public long[] Labels { get; }

    /// <summary>Dataset indices of the images, Count long.</summary>
    public int[] SampleIndices { get; }

    public IReadOnlyList<SampleFailure> Failures { get; }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref images, null);
        if (buffer is not null) returnBuffer?.Invoke(buffer);
    }
}
