using System.Text.Json;
using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>What the consumers share: recording a command once by its id, and answering a rejection.</summary>
public static class CommandRecorder
{
    public static ProcessedCommand Accepted<T>(Guid id, T command) where T : class => Record(id, command, "accepted", null);

    public static ProcessedCommand Rejected<T>(Guid id, T command, string reason) where T : class => Record(id, command, "rejected", reason);

    /// <summary>Records the rejection (once) and answers and publishes <see cref="CommandRejected"/>.</summary>
    /// <param name="recorded">What to keep of the command when not all of it (an import keeps its bytes out).</param>
    public static async Task RejectAsync<T>(ConsumeContext<T> context, CommandLog commands, Guid id, string reason, ILogger logger, T? recorded = null) where T : class
    {
        logger.LogWarning("Rejected {Command} {CommandId}: {Reason}", typeof(T).Name, id, reason);
        await commands.TryRecordAsync(Rejected(id, recorded ?? context.Message, reason), context.CancellationToken);
        var rejection = new CommandRejected(id, typeof(T).Name, reason);
        if (context.ResponseAddress is not null) await context.RespondAsync(rejection);
        await context.Publish(rejection);
    }

    /// <summary>
    /// The first steps of every command about an existing run: finds the run, rejects the command (recorded) when
    /// <paramref name="refusal"/> names a reason, else records it as accepted. Returns the run to act on; null when the
    /// command was refused or had already been processed.
    /// </summary>
    public static async Task<Run?> AcceptForRunAsync<T>(ConsumeContext<T> context, RunLifecycle lifecycle, CommandLog commands, Guid commandId, Guid runId,
        Func<Run?, string?> refusal, ILogger logger) where T : class
    {
        var run = await lifecycle.FindAsync(runId, context.CancellationToken);
        if (refusal(run) is { } reason)
        {
            await RejectAsync(context, commands, commandId, reason, logger);
            return null;
        }
        return await commands.TryRecordAsync(Accepted(commandId, context.Message), context.CancellationToken) ? run : null;
    }

    private static ProcessedCommand Record<T>(Guid id, T command, string outcome, string? reason) where T : class => new()
    {
        Id = id,
        Type = typeof(T).Name,
        Outcome = outcome,
        Reason = reason,
        PayloadJson = JsonSerializer.Serialize(command, JobPlanner.Json),
    };
}
