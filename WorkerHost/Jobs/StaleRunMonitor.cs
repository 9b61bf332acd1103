using Microsoft.Extensions.Options;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.WorkerHost.Options;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Queues again the runs whose worker stopped heart-beating (it crashed or lost its connection), so another worker
/// resumes them from their newest checkpoint. Any worker may do this; the update is one atomic statement.
/// </summary>
public sealed class StaleRunMonitor(IServiceScopeFactory scopes, IOptions<WorkerOptions> options, JobSignal signal, ILogger<StaleRunMonitor> logger)
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
                    using var scope = scopes.CreateScope();
                    var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
                    var requeued = await new RunStore(db).RequeueStaleAsync(settings.StaleAfter, stoppingToken);
                    if (requeued.Count == 0) continue;
                    foreach (var runId in requeued)
                    {
                        logger.LogWarning("Run {RunId} lost its worker (no heartbeat for {Stale}); queued to resume", runId, settings.StaleAfter);
                        db.RunEvents.Add(new RunEvent
                        {
                            RunId = runId, Time = DateTimeOffset.UtcNow, Kind = "requeued", Level = "warning",
                            Message = $"no heartbeat for {settings.StaleAfter.TotalSeconds:F0} s: the worker is presumed dead; queued to resume from the newest checkpoint",
                        });
                    }
                    await db.SaveChangesAsync(stoppingToken);
                    if (settings.RunJobs) signal.Wake();
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
