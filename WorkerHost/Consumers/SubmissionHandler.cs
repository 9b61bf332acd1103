using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>The shared path of training and evaluation submissions: answer a duplicate before any planning, else plan, queue once, answer.</summary>
internal static class SubmissionHandler
{
    public static async Task SubmitAsync<T>(ConsumeContext<T> context, RunLifecycle lifecycle, CommandLog commands, Guid runId, Func<Task<PlannedRun>> plan,
        JobSignal signal, ILogger logger) where T : class
    {
        if (await lifecycle.FindAsync(runId, context.CancellationToken) is { } existing)
        {
            await AnswerQueuedAsync(context, existing, duplicate: true);
            return;
        }
        var planned = await plan();
        if (planned.Run is null)
        {
            await CommandRecorder.RejectAsync(context, commands, runId, planned.Rejection!, logger);
            return;
        }

        if (!await lifecycle.QueueAsync(planned.Run, CommandRecorder.Accepted(runId, context.Message), context.CancellationToken))
        {
            // The same id was rejected before (or is being recorded by a concurrent delivery): answer as then.
            var recorded = await commands.FindAsync(runId, context.CancellationToken);
            if (await lifecycle.FindAsync(runId, context.CancellationToken) is { } run) await AnswerQueuedAsync(context, run, duplicate: true);
            else if (context.ResponseAddress is not null)
                await context.RespondAsync(new CommandRejected(runId, typeof(T).Name, recorded?.Reason ?? "this id was already used"));
            return;
        }

        logger.LogInformation("Queued {Kind} run {RunId}: {Name}", planned.Run.Kind, runId, planned.Run.Name);
        signal.Wake();
        var queued = Queued(planned.Run, duplicate: false);
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
