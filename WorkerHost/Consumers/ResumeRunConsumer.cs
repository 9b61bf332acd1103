using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Commands;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Persistence.Runs;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>Queues a cancelled or failed training run again; it continues from its newest checkpoint.</summary>
public sealed class ResumeRunConsumer(JobsDbContext db, JobSignal signal, ILogger<ResumeRunConsumer> logger) : IConsumer<ResumeRun>
{
    public async Task Consume(ConsumeContext<ResumeRun> context)
    {
        var command = context.Message;
        var commands = new CommandLog(db);
        var lifecycle = new RunLifecycle(db);
        var run = await lifecycle.FindAsync(command.RunId, context.CancellationToken);
        if (run is null || run.Kind != RunKind.Training)
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId, $"no training run {command.RunId}", logger);
            return;
        }
        if (run.Status is not (RunStatus.Cancelled or RunStatus.Failed))
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId,
                $"run {command.RunId} is {run.Status.ToString().ToLowerInvariant()}; only cancelled or failed runs resume", logger);
            return;
        }
        if (!await commands.TryRecordAsync(CommandRecorder.Accepted(command.CommandId, command), context.CancellationToken))
            return;
        if (!await lifecycle.ResumeAsync(command.RunId, context.CancellationToken)) return;

        signal.Wake();
        var answer = new RunQueued(run.Id, "training", run.ConfigurationName, run.Dataset, Duplicate: false, DateTimeOffset.UtcNow);
        await context.Publish(answer);
        if (context.ResponseAddress is not null) await context.RespondAsync(answer);
    }
}
