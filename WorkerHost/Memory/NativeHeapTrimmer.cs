using System.Diagnostics;
using SqueezeNext.Vision.Runtime;
using SqueezeNext.WorkerHost.Inference;

namespace SqueezeNext.WorkerHost.Memory;

/// <summary>
/// Returns glibc's free heap pages to the system (see <see cref="NativeHeap"/>): batches of changing sizes leave free
/// holes glibc never returns by itself. Each trim makes the next forward passes fault their memory back in (trimming
/// after every pass cost 40% of the throughput, every 2 s under classify load a tenth), so the heap is trimmed when
/// classification pauses and only every <see cref="WorkerOptions.HeapTrimIntervalUnderLoad"/> while it does not.
/// </summary>
public sealed class NativeHeapTrimmer(IOptions<WorkerOptions> options, RunningJobs jobs, BatchingClassifier classifier) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeapTrimInterval;
        if (interval <= TimeSpan.Zero || !NativeHeap.IsGlibcMalloc) return;
        using var timer = new PeriodicTimer(interval);
        long passesSeen = classifier.PassesStarted;
        var sinceTrim = Stopwatch.StartNew();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            long passes = classifier.PassesStarted;
            bool classifying = passes != passesSeen;
            passesSeen = passes;
            // A training or evaluation step reuses the same large blocks every step: returning them would make the
            // next step fault them back in (training 1.3 times slower), and they are its steady working set anyway.
            if (jobs.Ids.Count > 0 || (classifying && sinceTrim.Elapsed < options.Value.HeapTrimIntervalUnderLoad)) continue;
            NativeHeap.Trim();
            sinceTrim.Restart();
        }
    }
}
