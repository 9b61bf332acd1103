using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Idempotency;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>Makes one version the serving version of its name (the database allows one per name).</summary>
public sealed class PromoteModelConsumer(JobsDbContext db, ILogger<PromoteModelConsumer> logger) : IConsumer<PromoteModel>
{
    public async Task Consume(ConsumeContext<PromoteModel> context)
    {
        var command = context.Message;
        var commands = new CommandLog(db);
        var version = await db.ModelVersions.AsNoTracking()
            .FirstOrDefaultAsync(v => v.Name == command.ModelName && v.Version == command.Version, context.CancellationToken);
        if (version is null)
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId, $"model '{command.ModelName}' has no version {command.Version}", logger);
            return;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        if (await commands.TryRecordAsync(CommandRecorder.Accepted(command.CommandId, command), context.CancellationToken))
        {
            var now = DateTimeOffset.UtcNow;
            await db.ModelVersions.Where(v => v.Name == command.ModelName && v.IsServing)
                .ExecuteUpdateAsync(u => u.SetProperty(v => v.IsServing, false), context.CancellationToken);
            await db.ModelVersions.Where(v => v.Id == version.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(v => v.IsServing, true).SetProperty(v => v.PromotedAt, now), context.CancellationToken);
            await transaction.CommitAsync(context.CancellationToken);
            logger.LogInformation("Promoted {Model} v{Version} to serving", command.ModelName, command.Version);
            await context.Publish(new ModelPromoted(command.CommandId, command.ModelName, command.Version, now));
        }
        if (context.ResponseAddress is not null)
            await context.RespondAsync(new ModelPromoted(command.CommandId, command.ModelName, command.Version, DateTimeOffset.UtcNow));
    }
}
