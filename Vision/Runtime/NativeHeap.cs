using System.Runtime.InteropServices;

namespace SqueezeNext.Vision.Runtime;

/// <summary>
/// The C heap that libtorch allocates tensors from. glibc's malloc keeps what a forward pass frees: each thread that
/// contends for the heap gets an arena of its own (up to eight per core), and batches of changing sizes leave holes it
/// never returns, so a serving worker's resident memory climbs with the requests it answered (measured: 2.9 GB after
/// 25 passes of batch 1 to 32, 5.0 GB after 150) while its live tensors stay flat. Capping the arenas and trimming the
/// heap every few seconds holds it down at no measurable cost. (TCMalloc, preloaded, holds it flat and is faster, but
/// with it a training run failed on a corrupted scalar and a worker hung at exit: see docs/reliability.md.)
/// </summary>
public static class NativeHeap
{
    /// <summary>The allocator this process runs with: "tcmalloc" or "jemalloc" when preloaded, else "glibc" (Linux) or "system".</summary>
    public static string Allocator { get; } = DetectAllocator();

    public static bool IsGlibcMalloc => Allocator == "glibc";

    private const int ArenaMaxParameter = -8; // M_ARENA_MAX in glibc's malloc.h

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
