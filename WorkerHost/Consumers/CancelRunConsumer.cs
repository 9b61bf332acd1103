using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Commands;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Persistence.Runs;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Cancels a run: a queued one at once; a running one through its cancel flag, which its worker sees at its next
/// lease renewal (at once when the run is on this worker), checkpoints and stops within one batch.
/// </summary>
public sealed class CancelRunConsumer(JobsDbContext db, RunningJobs running, ILogger<CancelRunConsumer> logger) : IConsumer<CancelRun>
{
    public async Task Consume(ConsumeContext<CancelRun> context)
    {
        var command = context.Message;
        var commands = new CommandLog(db);
        var lifecycle = new RunLifecycle(db);
        var run = await lifecycle.FindAsync(command.RunId, context.CancellationToken);
        if (run is null)
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId, $"no run {command.RunId}", logger);
            return;
        }
        if (run.Status is not (RunStatus.Queued or RunStatus.Running))
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId, $"run {command.RunId} is already {run.Status.ToString().ToLowerInvariant()}", logger);
            return;
        }
        if (!await commands.TryRecordAsync(CommandRecorder.Accepted(command.CommandId, command), context.CancellationToken))
            return;

        var reason = command.Reason is { Length: > 0 } r ? (r.Length > 500 ? r[..500] : r) : "cancelled by request";
        bool cancelledWhileQueued = await lifecycle.CancelAsync(command.RunId, reason, () => running.TryCancel(command.RunId), context.CancellationToken);
        logger.LogInformation("Cancel of run {RunId} requested", command.RunId);
        if (cancelledWhileQueued)
            await context.Publish(new RunCancelled(command.RunId, run.Step, reason, DateTimeOffset.UtcNow));
    }
}
