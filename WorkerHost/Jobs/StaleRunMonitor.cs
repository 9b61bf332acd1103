using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Queues again the runs whose worker stopped heart-beating (it crashed or lost its connection), so another worker
/// resumes them from their newest checkpoint. Any worker may do this; the update is one atomic statement.
/// </summary>
public sealed class StaleRunMonitor(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, JobSignal signal, WorkerMetrics metrics,
    ILogger<StaleRunMonitor> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(200).Ticks, settings.StaleAfter.Ticks / 3));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var requeued = await scopes.UseRunLifecycleAsync(lifecycle => lifecycle.RequeueStaleAsync(settings.StaleAfter, stoppingToken));
                    foreach (var runId in requeued)
                        logger.LogWarning("Run {RunId} lost its worker (no heartbeat for {Stale}); queued to resume", runId, settings.StaleAfter);
                    metrics.CountRequeuedStale(requeued.Count);
                    if (requeued.Count > 0 && settings.RunJobs) signal.Wake();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Could not check for stale runs");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
