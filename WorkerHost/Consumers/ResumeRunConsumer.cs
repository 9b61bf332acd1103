using MassTransit;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>Queues a cancelled or failed training run again; it continues from its newest checkpoint.</summary>
public sealed class ResumeRunConsumer(JobsDbContext db, JobSignal signal, ILogger<ResumeRunConsumer> logger) : IConsumer<ResumeRun>
{
    public async Task Consume(ConsumeContext<ResumeRun> context)
    {
        var command = context.Message;
        var store = new RunStore(db);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == command.RunId, context.CancellationToken);
        if (run is null || run.Kind != RunKind.Training)
        {
            await CommandRecorder.RejectAsync(context, store, command.CommandId, $"no training run {command.RunId}", logger);
            return;
        }
        if (run.Status is not (RunStatus.Cancelled or RunStatus.Failed))
        {
            await CommandRecorder.RejectAsync(context, store, command.CommandId,
                $"run {command.RunId} is {run.Status.ToString().ToLowerInvariant()}; only cancelled or failed runs resume", logger);
            return;
        }
        if (!await store.TryRecordCommandAsync(CommandRecorder.Accepted(command.CommandId, command), context.CancellationToken))
            return;

        int queued = await db.Runs
            .Where(x => x.Id == command.RunId && (x.Status == RunStatus.Cancelled || x.Status == RunStatus.Failed))
            .ExecuteUpdateAsync(u => u
                .SetProperty(x => x.Status, RunStatus.Queued)
                .SetProperty(x => x.CancelRequested, false)
                .SetProperty(x => x.CancelReason, (string?)null)
                .SetProperty(x => x.Error, (string?)null)
                .SetProperty(x => x.FinishedAt, (DateTimeOffset?)null), context.CancellationToken);
        if (queued == 0) return;
        db.RunEvents.Add(new RunEvent { RunId = command.RunId, Time = DateTimeOffset.UtcNow, Kind = "resume-requested", Message = "queued to resume from the newest checkpoint" });
        await db.SaveChangesAsync(context.CancellationToken);
        signal.Wake();
        var answer = new RunQueued(run.Id, "training", run.ConfigurationName, run.Dataset, Duplicate: false, DateTimeOffset.UtcNow);
        await context.Publish(answer);
        if (context.ResponseAddress is not null) await context.RespondAsync(answer);
    }
}
