using MassTransit;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Cancels a run: a queued one at once; a running one through its cancel flag, which its worker sees at its next
/// heartbeat (at once when the run is on this worker), checkpoints and stops within one batch.
/// </summary>
public sealed class CancelRunConsumer(JobsDbContext db, RunningJobs running, ILogger<CancelRunConsumer> logger) : IConsumer<CancelRun>
{
    public async Task Consume(ConsumeContext<CancelRun> context)
    {
        var command = context.Message;
        var store = new RunStore(db);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == command.RunId, context.CancellationToken);
        if (run is null)
        {
            await CommandRecorder.RejectAsync(context, store, command.CommandId, $"no run {command.RunId}", logger);
            return;
        }
        if (run.Status is not (RunStatus.Queued or RunStatus.Running))
        {
            await CommandRecorder.RejectAsync(context, store, command.CommandId, $"run {command.RunId} is already {run.Status.ToString().ToLowerInvariant()}", logger);
            return;
        }
        if (!await store.TryRecordCommandAsync(CommandRecorder.Accepted(command.CommandId, command), context.CancellationToken))
            return;

        var reason = command.Reason is { Length: > 0 } r ? (r.Length > 500 ? r[..500] : r) : "cancelled by request";
        // A queued run is cancelled here; a running one is flagged for its worker.
        int cancelledWhileQueued = await db.Runs
            .Where(x => x.Id == command.RunId && x.Status == RunStatus.Queued)
            .ExecuteUpdateAsync(u => u
                .SetProperty(x => x.Status, RunStatus.Cancelled)
                .SetProperty(x => x.CancelRequested, true)
                .SetProperty(x => x.CancelReason, reason)
                .SetProperty(x => x.FinishedAt, DateTimeOffset.UtcNow), context.CancellationToken);
        string message = reason;
        if (cancelledWhileQueued == 0)
        {
            await db.Runs.Where(x => x.Id == command.RunId && x.Status == RunStatus.Running)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.CancelRequested, true).SetProperty(x => x.CancelReason, reason), context.CancellationToken);
            if (running.TryCancel(command.RunId) is { } step) message = $"{reason} (at step {step} on this worker)";
        }
        db.RunEvents.Add(new RunEvent { RunId = command.RunId, Time = DateTimeOffset.UtcNow, Kind = "cancel-requested", Level = "warning", Message = message });
        await db.SaveChangesAsync(context.CancellationToken);
        logger.LogInformation("Cancel of run {RunId} requested", command.RunId);
        if (cancelledWhileQueued > 0)
            await context.Publish(new RunCancelled(command.RunId, run.Step, reason, DateTimeOffset.UtcNow));
    }
}
