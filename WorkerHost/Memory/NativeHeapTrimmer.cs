using Microsoft.Extensions.Options;
using SqueezeNext.Vision.Runtime;
using SqueezeNext.WorkerHost.Jobs;
using SqueezeNext.WorkerHost.Options;

namespace SqueezeNext.WorkerHost.Memory;

/// <summary>
/// Returns glibc's free heap pages to the system at a fixed interval (see <see cref="NativeHeap"/>): batches of
/// changing sizes leave free holes glibc never returns by itself. Trimming after every forward pass would hold memory
/// tightest but cost 40% of the throughput in re-faulted pages; every five passes or so costs nothing measurable.
/// </summary>
public sealed class NativeHeapTrimmer(IOptions<WorkerOptions> options, RunningJobs jobs) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeapTrimInterval;
        if (interval <= TimeSpan.Zero || !NativeHeap.IsGlibcMalloc) return;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // A training or evaluation step reuses the same large blocks every step: returning them would make the
            // next step fault them back in (training 1.3 times slower), and they are its steady working set anyway.
            if (jobs.Ids.Count == 0) NativeHeap.Trim();
        }
    }
}
