using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Cancels a run: a queued one at once; a running one through its cancel flag, which its worker sees at its next
/// lease renewal (at once when the run is on this worker), checkpoints and stops within one batch.
/// </summary>
public sealed class CancelRunConsumer(JobsDbContext db, RunLifecycle lifecycle, RunningJobs running, ILogger<CancelRunConsumer> logger) : IConsumer<CancelRun>
{
    public async Task Consume(ConsumeContext<CancelRun> context)
    {
        var command = context.Message;
        var run = await CommandRecorder.AcceptForRunAsync(context, lifecycle, new CommandLog(db), command.CommandId, command.RunId, found =>
            found is null ? $"no run {command.RunId}"
            : found.Status is not (RunStatus.Queued or RunStatus.Running) ? $"run {command.RunId} is already {found.Status.ToString().ToLowerInvariant()}"
            : null, logger);
        if (run is null) return;

        var reason = command.Reason is { Length: > 0 } r ? (r.Length > 500 ? r[..500] : r) : "cancelled by request";
        bool cancelledWhileQueued = await lifecycle.CancelAsync(command.RunId, reason, () => running.TryCancel(command.RunId), context.CancellationToken);
        logger.LogInformation("Cancel of run {RunId} requested", command.RunId);
        if (cancelledWhileQueued)
            await context.Publish(new RunCancelled(command.RunId, run.Step, reason, DateTimeOffset.UtcNow));
    }
}
