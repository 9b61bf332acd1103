using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Registers a run's model as the next version of a model name. The model directory is copied under the artifact
/// root's models/ folder, so pruning a run's checkpoints never removes a registered version.
/// </summary>
public sealed partial class RegisterModelConsumer(JobsDbContext db, IOptions<WorkerOptions> options, ILogger<RegisterModelConsumer> logger)
    : IConsumer<RegisterModel>
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    public static partial Regex ModelNamePattern();

    public async Task Consume(ConsumeContext<RegisterModel> context)
    {
        var command = context.Message;
        var commands = new CommandLog(db);
        var existing = await db.ProcessedCommands.AsNoTracking().FirstOrDefaultAsync(c => c.Id == command.CommandId, context.CancellationToken);
        if (existing is not null)
        {
            var registered = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.CommandId == command.CommandId, context.CancellationToken);
            if (registered is not null && context.ResponseAddress is not null)
                await context.RespondAsync(new ModelRegistered(command.CommandId, registered.Name, registered.Version, command.SourceRunId, command.CheckpointStep, registered.CreatedAt));
            return;
        }
        if (!ModelNamePattern().IsMatch(command.ModelName ?? ""))
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId,
                $"modelName: '{command.ModelName}' must be 1 to 100 letters, digits, '.', '_' or '-'", logger);
            return;
        }

        string source;
        try
        {
            source = await JobPlanner.RunModelPathAsync(db, command.SourceRunId, command.CheckpointStep, context.CancellationToken);
        }
        catch (ArtifactException e)
        {
            await CommandRecorder.RejectAsync(context, commands, command.CommandId, e.Message, logger);
            return;
        }
        var manifest = ModelArtifact.ReadManifest(source);

        var staging = ModelVersions.StagingFolder(options.Value.ArtifactRoot, command.CommandId);
        try
        {
            CopyModel(source, Path.Combine(staging, "model"));
            var row = await ModelVersions.AddAsync(db, CommandRecorder.Accepted(command.CommandId, command), options.Value.ArtifactRoot, Path.Combine(staging, "model"),
                new ModelVersion
                {
                    Name = command.ModelName!,
                    SourceRunId = command.SourceRunId,
                    CheckpointStep = command.CheckpointStep,
                    CommandId = command.CommandId,
                    ConfigurationName = manifest.Configuration.Name,
                    Description = command.Description is { Length: > 1000 } d ? d[..1000] : command.Description,
                    CreatedAt = DateTimeOffset.UtcNow,
                }, context.CancellationToken);
            if (row is null) return;
            await AnswerAsync(context, row);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private async Task AnswerAsync(ConsumeContext<RegisterModel> context, ModelVersion row)
    {
        var command = context.Message;
        logger.LogInformation("Registered {Model} v{Version} from run {RunId}", row.Name, row.Version, command.SourceRunId);
        var answer = new ModelRegistered(command.CommandId, row.Name, row.Version, command.SourceRunId, command.CheckpointStep, row.CreatedAt);
        await context.Publish(answer);
        if (context.ResponseAddress is not null) await context.RespondAsync(answer);
    }

    private static void CopyModel(string source, string target)
    {
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.CreateDirectory(target);
        foreach (var file in new[] { ModelArtifact.WeightsFileName, ModelArtifact.ManifestFileName })
            File.Copy(Path.Combine(source, file), Path.Combine(target, file));
    }
}
