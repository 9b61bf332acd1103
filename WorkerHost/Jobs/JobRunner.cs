using System.Diagnostics;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Training;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Claims queued runs one at a time and executes each attempt on a dedicated thread, while this service renews the
/// attempt's lease, flushes its records and notices cancellation. An attempt whose lease is lost (taken over, or not
/// renewable for the stale period) stops and writes nothing more; one interrupted by shutdown goes back to the queue
/// and resumes from its newest checkpoint on whichever worker claims it next.
/// </summary>
public sealed class JobRunner(
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    JobWork work,
    JobSignal signal,
    RunningJobs running,
    WorkerIdentity identity,
    WorkerMetrics metrics,
    IBus bus,
    ILogger<JobRunner> logger) : BackgroundService
{
    private static readonly RunKind[] Kinds = [RunKind.Training, RunKind.Evaluation, RunKind.Import];
    private readonly WorkerOptions settings = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.RunJobs) return;
        logger.LogInformation("Job runner {Worker} started", identity.Name);
        try
        {
            await scopes.UseRunLifecycleAsync(async lifecycle => { await lifecycle.WarmUpAsync(stoppingToken); return true; });
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not prepare the lease queries; the first attempt's renewal will");
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            ClaimedRun? claimed = null;
            long claimStartedAt = Stopwatch.GetTimestamp();
            try
            {
                claimed = await scopes.UseRunLifecycleAsync(lifecycle => lifecycle.ClaimNextAsync(identity.Name, Kinds, stoppingToken));
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not claim a run; retrying");
            }
            if (claimed is null)
            {
                try
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            await ExecuteAsync(claimed, new LeaseClock(settings.StaleAfter, claimStartedAt), stoppingToken);
        }
    }

    private async Task ExecuteAsync(ClaimedRun claimed, LeaseClock leaseClock, CancellationToken stoppingToken)
    {
        var (run, lease) = claimed;
        using var logScope = logger.BeginScope("Run {RunId}", run.Id);
        logger.LogInformation("Claimed {Kind} run {RunId} (attempt {Attempt})", run.Kind, run.Id, lease.Attempt);
        metrics.RecordQueueTime(run);
        var job = running.Start(run.Id, stoppingToken);
        var recorder = new RunRecorder(lease, leaseClock, scopes, bus, logger);
        var supervisor = new AttemptSupervisor(lease, job, recorder, leaseClock, scopes, settings, logger);
        job.CurrentStep = () => recorder.Progress?.Step ?? run.Step;
        var clock = Stopwatch.StartNew();
        // The lease is renewed from the claim on, beside the start-up work and the flushes, so that neither a slow
        // start (a cold process) nor a slow write can let it lapse.
        using var attemptOver = new CancellationTokenSource();
        var keepingLease = supervisor.KeepLeaseAsync(attemptOver.Token);
        try
        {
            string? resumeFrom;
            try
            {
                resumeFrom = await scopes.UseRunLifecycleAsync(lifecycle => lifecycle.NewestCheckpointAsync(run.Id, CancellationToken.None));
                await bus.Publish(new RunStarted(run.Id, identity.Name, lease.Attempt, run.Step, DateTimeOffset.UtcNow), CancellationToken.None);
            }
            catch (Exception e)
            {
                // Its lease goes stale and the run is queued again; this worker goes on claiming.
                logger.LogWarning(e, "Could not start attempt {Attempt} of run {RunId}", lease.Attempt, run.Id);
                return;
            }
            var attempt = TorchThread.RunAsync($"{run.Kind}-{run.Id:N}".ToLowerInvariant(), () =>
            {
                // On the torch thread only, so the epochs, evaluations and checkpoints nest in it and the lease
                // renewals and flushes beside it stay out of the trace.
                using var span = WorkerTracing.StartAttempt(run, lease.Attempt);
                var outcome = work.Run(run, lease, resumeFrom, recorder, job.Token);
                WorkerTracing.End(span, outcome);
                return outcome;
            });
            await supervisor.FlushUntilDoneAsync(attempt, run.Kind == RunKind.Training ? metrics : null);
            var outcome = await SettleAsync(attempt, job, leaseClock);
            await supervisor.FlushQuietlyAsync();
            await RecordAsync(run, lease, outcome, recorder, clock.Elapsed);
            metrics.CountRunEnded(run.Kind, outcome switch
            {
                JobOutcome.Completed => "completed",
                JobOutcome.Failed => "failed",
                JobOutcome.Cancelled => "cancelled",
                JobOutcome.Released => "released",
                _ => "lease_lost",
            });
        }
        finally
        {
            await attemptOver.CancelAsync();
            await keepingLease;
            metrics.SetTrainingThroughput(0);
            running.Finish(run.Id);
        }
    }

    /// <summary>What the attempt's end means for its run.</summary>
    private static async Task<JobOutcome> SettleAsync(Task<JobOutcome> attempt, RunningJob job, LeaseClock leaseClock)
    {
        JobOutcome outcome;
        try
        {
            outcome = await attempt;
        }
        catch (Exception e)
        {
            outcome = e is OperationCanceledException && job.Reason != StopReason.None ? new JobOutcome.Stopped() : new JobOutcome.Failed(e);
        }
        if (!leaseClock.IsHeld || job.Reason == StopReason.LeaseLost || outcome is JobOutcome.Failed { Error: OutputFencedException })
            return new JobOutcome.LeaseLost();
        if (outcome is JobOutcome.Stopped)
            return job.Reason == StopReason.Shutdown ? new JobOutcome.Released() : new JobOutcome.Cancelled();
        return outcome;
    }

    private async Task RecordAsync(Run run, RunLease lease, JobOutcome outcome, RunRecorder recorder, TimeSpan elapsed)
    {
        var progress = recorder.Progress;
        long step = progress?.Step ?? run.Step;
        var now = DateTimeOffset.UtcNow;
        bool recorded = await scopes.UseRunLifecycleAsync(async lifecycle =>
        {
            switch (outcome)
            {
                case JobOutcome.LeaseLost:
                    logger.LogWarning("Lost the lease on run {RunId} (attempt {Attempt}): stopped the job without recording anything more", run.Id, lease.Attempt);
                    return true;
                case JobOutcome.Released:
                    return await lifecycle.ReleaseAsync(lease, progress,
                        $"worker {identity.Name} shut down at step {step}; the run is queued to resume", CancellationToken.None);
                case JobOutcome.Cancelled:
                    var cancelReason = await lifecycle.CancelReasonAsync(run.Id, CancellationToken.None);
                    if (!await lifecycle.FinishAsync(lease, progress, new RunEnding(RunStatus.Cancelled, null), CancellationToken.None)) return false;
                    await bus.Publish(new RunCancelled(run.Id, step, cancelReason, now));
                    return true;
                case JobOutcome.Failed failed:
                    string reason = JobWork.Describe(failed.Error);
                    logger.LogError(failed.Error, "Run {RunId} failed: {Reason}", run.Id, reason);
                    var failedEvent = new RunEvent { Kind = RunEventKind.Failed, Level = "error", Message = reason };
                    if (!await lifecycle.FinishAsync(lease, progress, new RunEnding(RunStatus.Failed, failedEvent, Error: reason), CancellationToken.None)) return false;
                    await bus.Publish(new RunFailed(run.Id, reason, step, now));
                    return true;
                case JobOutcome.Completed completed:
                    var ending = new RunEnding(RunStatus.Completed, null, null, completed.Top1, completed.Top5, completed.BestTop1 ?? recorder.BestTop1,
                        completed.Evaluation is { } evaluation ? JobWork.EvaluationRow(run, evaluation) : null, completed.Imported);
                    if (!await lifecycle.FinishAsync(lease, progress, ending, CancellationToken.None)) return false;
                    await bus.Publish(new RunCompleted(run.Id, run.Kind.ToString().ToLowerInvariant(), step, ending.Top1, ending.Top5, ending.BestTop1,
                        elapsed.TotalSeconds, now));
                    logger.LogInformation("Run {RunId} completed in {Seconds:F1} s", run.Id, elapsed.TotalSeconds);
                    return true;
                default:
                    throw new InvalidOperationException($"unexpected outcome {outcome}");
            }
        });
        if (!recorded)
            logger.LogWarning("Run {RunId} was taken over by another attempt before attempt {Attempt} could record its end", run.Id, lease.Attempt);
    }
}
