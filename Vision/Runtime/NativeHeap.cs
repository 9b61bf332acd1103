using System.Runtime.InteropServices;

namespace SqueezeNext.Vision.Runtime;

/// <summary>
/// The C heap that libtorch allocates tensors from. glibc's malloc keeps what a forward pass frees: each thread that
/// contends for the heap gets an arena of its own (up to eight per core), and batches of changing sizes leave holes it
/// never returns, so a serving worker's resident memory climbs with the requests it answered (measured: 2.9 GB after
/// 25 passes of batch 1 to 32, 5.0 GB after 150) while its live tensors stay flat. Capping the arenas and trimming the
/// heap every few seconds holds it down at no measurable cost. Left to its defaults, glibc also maps large blocks (a
/// batch's activations) fresh from the system and unmaps them on release, so every training step faults a gigabyte or
/// more of zeroed pages in again; <see cref="TrainingEnvironment"/> stops that. (TCMalloc, preloaded, also avoids it,
/// but a worker with it hung at exit once: docs/reliability.md.)
/// </summary>
public static class NativeHeap
{
    /// <summary>The allocator this process runs with: "tcmalloc" or "jemalloc" when preloaded, else "glibc" (Linux) or "system".</summary>
    public static string Allocator { get; } = DetectAllocator();

    public static bool IsGlibcMalloc => Allocator == "glibc";

    private const int ArenaMaxParameter = -8; // M_ARENA_MAX in glibc's malloc.h

    /// <summary>
    /// glibc's settings for a process that trains. glibc reads them only when the process starts, so launchers set
    /// them (the worker's Dockerfile, scripts/run-local.sh and scripts/training-heap.env, the tests' workers): one
    /// arena, so that every thread allocates from the main heap, which can grow past the 64 MB that bounds a secondary
    /// arena's heaps; no block in a mapping of its own; no shrinking on free. Each training step then reuses the blocks
    /// the last one freed: 1.3 times the training throughput at batch 32 (docs/performance.md). Free pages still go
    /// back to the system when <see cref="Trim"/> is called.
    /// </summary>
    public static IReadOnlyDictionary<string, string> TrainingEnvironment { get; } = new Dictionary<string, string>
    {
        ["MALLOC_ARENA_MAX"] = "1",
        ["MALLOC_MMAP_MAX_"] = "0",
        ["MALLOC_TRIM_THRESHOLD_"] = "2147483647",
    };

    /// <summary>Whether glibc allocates for this process and it was started with <see cref="TrainingEnvironment"/>.</summary>
    public static bool HasTrainingEnvironment =>
        IsGlibcMalloc && TrainingEnvironment.All(setting => Environment.GetEnvironmentVariable(setting.Key) == setting.Value);

    /// <summary>
    /// Caps glibc's arena count (the MALLOC_ARENA_MAX setting, applied at run time). Returns false where malloc is not
    /// glibc's (a preloaded allocator, musl, macOS, Windows): the setting does not exist there.
    /// </summary>
    public static bool LimitArenas(int arenas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(arenas, 1);
        return CallGlibc(() => mallopt(ArenaMaxParameter, arenas));
    }

    /// <summary>
    /// Hands the free pages inside glibc's heap back to the system (malloc_trim). Returns false where there is nothing
    /// to do: malloc is not glibc's, or nothing was free.
    /// </summary>
    public static bool Trim() => CallGlibc(() => malloc_trim(0));

    /// <summary>Calls a glibc malloc function that returns 1 on success; false where malloc is not glibc's.</summary>
    private static bool CallGlibc(Func<int> call)
    {
        if (!IsGlibcMalloc) return false;
        try
        {
            return call() == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static string DetectAllocator()
    {
        if (!OperatingSystem.IsLinux()) return "system";
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                if (line.Contains("libtcmalloc", StringComparison.Ordinal)) return "tcmalloc";
                if (line.Contains("libjemalloc", StringComparison.Ordinal)) return "jemalloc";
            }
        }
        catch (IOException)
        {
        }
        return "glibc";
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);
}
