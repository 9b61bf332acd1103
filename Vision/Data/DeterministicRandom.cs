namespace SqueezeNext.Vision.Data;

/// <summary>
/// Seeds derived from (seed, epoch, index) with SplitMix64, so data order and augmentation depend only on those
/// numbers: the same on every run, on any number of loader threads, and after a resume.
/// </summary>
public static class DeterministicRandom
{
    public static int Seed(long seed, long a, long b = 0)
    {
        ulong x = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        x = Mix(x ^ (ulong)a);
        x = Mix(x ^ (ulong)b * 0xBF58476D1CE4E5B9UL);
        return (int)(x & 0x7FFFFFFF);
    }

    public static Random For(long seed, long a, long b = 0) => new(Seed(seed, a, b));

    /// <summary>A permutation of 0..count−1, the same for the same seed and epoch.</summary>
    public static int[] Permutation(int count, long seed, long epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var random = For(seed, epoch, -1);
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
