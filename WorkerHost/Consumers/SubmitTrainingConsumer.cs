using MassTransit;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Records a training run and acknowledges at once; a job runner trains it later. Idempotent on the run id: a
/// redelivered or duplicated command answers with the run that exists. Invalid commands are recorded as rejected.
/// </summary>
public sealed class SubmitTrainingConsumer(JobsDbContext db, JobPlanner planner, JobSignal signal, ILogger<SubmitTrainingConsumer> logger)
    : IConsumer<SubmitTraining>
{
    public async Task Consume(ConsumeContext<SubmitTraining> context)
    {
        var command = context.Message;
        await SubmissionHandler.SubmitAsync(context, db, command.RunId, planner.PlanTraining(command), signal, logger);
    }
}

/// <summary>The shared path of training and evaluation submissions: record once, queue, answer.</summary>
internal static class SubmissionHandler
{
    public static async Task SubmitAsync<T>(ConsumeContext<T> context, JobsDbContext db, Guid runId, PlannedRun plan, JobSignal signal, ILogger logger)
        where T : class
    {
        var store = new RunStore(db);
        var existing = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, context.CancellationToken);
        if (existing is not null)
        {
            await AnswerQueuedAsync(context, existing, duplicate: true);
            return;
        }
        if (plan.Run is null)
        {
            await CommandRecorder.RejectAsync(context, store, runId, plan.Rejection!, logger);
            return;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        if (!await store.TryRecordCommandAsync(CommandRecorder.Accepted(runId, context.Message), context.CancellationToken))
        {
            // The same id was rejected before (or is being recorded by a concurrent delivery): answer as then.
            await transaction.RollbackAsync(context.CancellationToken);
            var recorded = await db.ProcessedCommands.AsNoTracking().FirstOrDefaultAsync(c => c.Id == runId, context.CancellationToken);
            var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, context.CancellationToken);
            if (run is not null) await AnswerQueuedAsync(context, run, duplicate: true);
            else if (context.ResponseAddress is not null)
                await context.RespondAsync(new CommandRejected(runId, typeof(T).Name, recorded?.Reason ?? "this id was already used"));
            return;
        }
        db.Runs.Add(plan.Run);
        await db.SaveChangesAsync(context.CancellationToken);
        db.RunEvents.Add(new RunEvent { RunId = runId, Time = DateTimeOffset.UtcNow, Kind = "queued", Message = $"queued: {plan.Run.Name}" });
        await db.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);

        logger.LogInformation("Queued {Kind} run {RunId}: {Name}", plan.Run.Kind, runId, plan.Run.Name);
        signal.Wake();
        var queued = Queued(plan.Run, duplicate: false);
        await context.Publish(queued);
        if (context.ResponseAddress is not null) await context.RespondAsync(queued);
    }

    private static async Task AnswerQueuedAsync<T>(ConsumeContext<T> context, Run run, bool duplicate) where T : class
    {
        if (context.ResponseAddress is not null) await context.RespondAsync(Queued(run, duplicate));
    }

    private static RunQueued Queued(Run run, bool duplicate) =>
        new(run.Id, run.Kind.ToString().ToLowerInvariant(), run.ConfigurationName, run.Dataset, duplicate, run.CreatedAt);
}
