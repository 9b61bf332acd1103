using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>Queues a cancelled or failed training run again; it continues from its newest checkpoint.</summary>
public sealed class ResumeRunConsumer(JobsDbContext db, RunLifecycle lifecycle, JobSignal signal, ILogger<ResumeRunConsumer> logger) : IConsumer<ResumeRun>
{
    public async Task Consume(ConsumeContext<ResumeRun> context)
    {
        var command = context.Message;
        var run = await CommandRecorder.AcceptForRunAsync(context, lifecycle, new CommandLog(db), command.CommandId, command.RunId, found =>
            found is null || found.Kind != RunKind.Training ? $"no training run {command.RunId}"
            : found.Status is not (RunStatus.Cancelled or RunStatus.Failed) ? $"run {command.RunId} is {found.Status.ToString().ToLowerInvariant()}; only cancelled or failed runs resume"
            : null, logger);
        if (run is null) return;
        if (!await lifecycle.ResumeAsync(command.RunId, context.CancellationToken)) return;

        signal.Wake();
        var answer = new RunQueued(run.Id, "training", run.ConfigurationName, run.Dataset, Duplicate: false, DateTimeOffset.UtcNow);
        await context.Publish(answer);
        if (context.ResponseAddress is not null) await context.RespondAsync(answer);
    }
}
