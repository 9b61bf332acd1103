using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Registers uploaded weights (a pytorchcv state dict, a safetensors export) as the next version of a model name.
/// The file is imported into a model artifact first, so weights that do not fit their configuration are rejected
/// with the tensor named and leave nothing behind. The bytes never go into processed_commands.
/// </summary>
public sealed class ImportModelConsumer(JobsDbContext db, MessagePayloads payloads, IOptions<WorkerOptions> options, ILogger<ImportModelConsumer> logger)
    : IConsumer<ImportModel>
{
    public async Task Consume(ConsumeContext<ImportModel> context)
    {
        var command = context.Message;
        var recorded = command with { Weights = [], WeightsData = null };
        var commands = new CommandLog(db);
        if (await db.ProcessedCommands.AsNoTracking().AnyAsync(c => c.Id == command.CommandId, context.CancellationToken))
        {
            var imported = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.CommandId == command.CommandId, context.CancellationToken);
            if (imported is not null && context.ResponseAddress is not null)
                await context.RespondAsync(new ModelRegistered(command.CommandId, imported.Name, imported.Version, null, null, imported.CreatedAt));
            return;
        }

        Task RejectAsync(string reason) => CommandRecorder.RejectAsync(context, commands, command.CommandId, reason, logger, recorded);
        var fileName = Path.GetFileName(command.FileName ?? "");
        if (!RegisterModelConsumer.ModelNamePattern().IsMatch(command.ModelName ?? ""))
        {
            await RejectAsync($"modelName: '{command.ModelName}' must be 1 to 100 letters, digits, '.', '_' or '-'");
            return;
        }
        if (command.Format is not ("pytorch" or "safetensors"))
        {
            await RejectAsync($"format: '{command.Format}' is not pytorch or safetensors");
            return;
        }
        byte[] weights;
        try
        {
            weights = await payloads.ReadAsync(command.Weights, command.WeightsData, options.Value.MaxImportBytes);
        }
        catch (MessageDataException e)
        {
            await RejectAsync($"weightsData: {e.Message}");
            return;
        }
        if (weights is not { Length: > 0 } || weights.LongLength > options.Value.MaxImportBytes)
        {
            await RejectAsync($"weights: {weights.LongLength:N0} bytes; a weights file must have 1 to {options.Value.MaxImportBytes:N0}");
            return;
        }
        if (fileName.Length is 0 or > 200 || fileName.Any(c => char.IsControl(c)))
        {
            await RejectAsync("fileName: give the uploaded file's name (1 to 200 characters)");
            return;
        }
        SqueezeNextConfiguration? configuration = null;
        if (command.Configuration is { Length: > 0 } name)
        {
            configuration = ConfigurationCatalog.Find(name);
            if (configuration is null)
            {
                await RejectAsync($"configuration: unknown configuration '{(name.Length > 100 ? name[..100] : name)}'; known configurations: {string.Join(", ", ConfigurationCatalog.Names)}");
                return;
            }
        }

        var staging = ModelVersions.StagingFolder(options.Value.ArtifactRoot, command.CommandId);
        var file = Path.Combine(staging, "upload" + Path.GetExtension(fileName));
        try
        {
            Directory.CreateDirectory(staging);
            await File.WriteAllBytesAsync(file, weights, context.CancellationToken);
            ModelManifest manifest;
            try
            {
                var format = command.Format == "pytorch" ? WeightsFormat.Pytorch : WeightsFormat.Safetensors;
                manifest = ModelImport.FromFile(file, format, configuration, Path.Combine(staging, "model"));
            }
            catch (Exception e) when (e is ArtifactException or InvalidConfigurationException)
            {
                // Nothing of a rejected import is left once the sender hears of it (the finally would delete the
                // staging folder only after the answer went out).
                DeleteStaging(staging);
                // The worker's paths mean nothing to the sender: name the file as they did.
                await RejectAsync(e.Message.Replace(file, fileName).Replace("--config", "a configuration"));
                return;
            }

            var row = await ModelVersions.AddAsync(db, CommandRecorder.Accepted(command.CommandId, recorded), options.Value.ArtifactRoot, Path.Combine(staging, "model"),
                new ModelVersion
                {
                    Name = command.ModelName!,
                    CommandId = command.CommandId,
                    ConfigurationName = manifest.Configuration.Name,
                    Description = command.Description is { Length: > 0 } d ? (d.Length > 1000 ? d[..1000] : d) : $"imported from {fileName}",
                    CreatedAt = DateTimeOffset.UtcNow,
                }, context.CancellationToken);
            if (row is null) return;

            logger.LogInformation("Imported {Model} v{Version} ({Configuration}) from {File}", row.Name, row.Version, row.ConfigurationName, fileName);
            var answer = new ModelRegistered(command.CommandId, row.Name, row.Version, null, null, row.CreatedAt);
            await context.Publish(answer);
            if (context.ResponseAddress is not null) await context.RespondAsync(answer);
        }
        finally
        {
            DeleteStaging(staging);
        }
    }

    private static void DeleteStaging(string staging)
    {
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
    }
}
