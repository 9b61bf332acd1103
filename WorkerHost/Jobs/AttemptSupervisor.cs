using System.Diagnostics;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Watches over one attempt while it runs on its own thread: renews its lease from the claim on, flushes its records,
/// and stops it when the lease is lost or the run's cancellation is requested.
/// </summary>
public sealed class AttemptSupervisor(RunLease lease, RunningJob job, RunRecorder recorder, LeaseClock leaseClock, IServiceScopeFactory scopes,
    WorkerOptions settings, ILogger logger)
{
    /// <summary>
    /// Renews the lease every heartbeat interval until the attempt is over, and stops the job once the lease is lost
    /// (taken over, or not renewed for the stale period) or the run's cancellation is requested.
    /// </summary>
    public async Task KeepLeaseAsync(CancellationToken attemptOver)
    {
        using var heartbeat = new PeriodicTimer(settings.HeartbeatInterval);
        try
        {
            while (await heartbeat.WaitForNextTickAsync(attemptOver))
            {
                if (!leaseClock.IsHeld)
                {
                    logger.LogWarning("The lease on run {RunId} lapsed: no renewal was accepted within {Stale:F0} s of the claim or the last renewal", lease.RunId, settings.StaleAfter.TotalSeconds);
                    job.Stop(StopReason.LeaseLost);
                    return;
                }
                long startedAt = Stopwatch.GetTimestamp();
                try
                {
                    var state = await scopes.UseRunLifecycleAsync(lifecycle => lifecycle.RenewAsync(lease, recorder.Progress, CancellationToken.None));
                    var took = Stopwatch.GetElapsedTime(startedAt);
                    if (took > settings.StaleAfter / 2)
                        logger.LogWarning("Renewing the lease on run {RunId} took {Seconds:F1} s of the {Stale:F0} s it lasts", lease.RunId, took.TotalSeconds, settings.StaleAfter.TotalSeconds);
                    switch (state)
                    {
                        case LeaseState.Lost:
                            leaseClock.Lose();
                            job.Stop(StopReason.LeaseLost);
                            return;
                        case LeaseState.CancelRequested:
                            leaseClock.Renewed(startedAt);
                            job.Stop(StopReason.Cancelled);
                            break;
                        default:
                            leaseClock.Renewed(startedAt);
                            break;
                    }
                }
                catch (Exception e)
                {
                    // The database may be restarting: the attempt goes on while its lease lasts, and the next renewal tries again.
                    logger.LogWarning(e, "Could not renew the lease on run {RunId}", lease.RunId);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Flushes the attempt's records every flush interval until it ends, and stops it when its lease is lost; a training
    /// attempt's throughput goes to <paramref name="trainingMetrics"/>.
    /// </summary>
    public async Task FlushUntilDoneAsync(Task attempt, WorkerMetrics? trainingMetrics)
    {
        while (!attempt.IsCompleted)
        {
            await Task.WhenAny(attempt, Task.Delay(settings.FlushInterval));
            await FlushQuietlyAsync();
            trainingMetrics?.SetTrainingThroughput(recorder.Progress?.ImagesPerSecond ?? 0);
            if (!leaseClock.IsHeld) job.Stop(StopReason.LeaseLost);
        }
    }

    /// <summary>Writes what the attempt recorded; what cannot be written now stays for the next flush.</summary>
    public async Task FlushQuietlyAsync()
    {
        try
        {
            await recorder.FlushAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not write a run's metrics; they are kept for the next flush");
        }
    }
}
