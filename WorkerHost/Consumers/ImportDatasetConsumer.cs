using SqueezeNext.Persistence.Idempotency;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.ServiceDefaults.Datasets;
using SqueezeNext.WorkerHost.Datasets;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Records an import as the next version of its dataset and as a run of kind Import, and answers at once; a job runner
/// imports it later. Idempotent on the run id. The source is checked here (an upload id, or a path inside incoming/
/// that is no link), so a refused command never reaches a runner.
/// </summary>
public sealed class ImportDatasetConsumer(JobsDbContext db, RunLifecycle lifecycle, DataRoot dataRoot, IOptions<WorkerOptions> options, JobSignal signal,
    ILogger<ImportDatasetConsumer> logger) : IConsumer<ImportDataset>
{
    public async Task Consume(ConsumeContext<ImportDataset> context)
    {
        var command = context.Message;
        var commands = new CommandLog(db);
        if (await lifecycle.FindAsync(command.RunId, context.CancellationToken) is { } existing)
        {
            await AnswerAsync(context, existing, duplicate: true);
            return;
        }
        if (Refusal(command) is { } reason)
        {
            await CommandRecorder.RejectAsync(context, commands, command.RunId, reason, logger);
            return;
        }

        var plan = new DatasetImportPlan(command.Source, command.Path, Truncate(command.FileName ?? Path.GetFileName(command.Path), 1000),
            command.ValidationFraction ?? options.Value.Datasets.ValidationFraction, command.Seed ?? 0);
        var version = new DatasetVersion
        {
            DatasetName = command.Dataset,
            Source = command.Source,
            SourceName = plan.Source == "upload" ? plan.FileName : Truncate($"{DataVolume.Incoming}/{command.Path}", 1000),
            CreatedBy = command.RequestedBy is { } by ? Truncate(by, 100) : null,
        };
        var queued = await lifecycle.QueueImportAsync(command.RunId, plan.ToJson(), version, CommandRecorder.Accepted(command.RunId, command), context.CancellationToken);
        if (queued.Conflict is { } conflict)
        {
            await CommandRecorder.RejectAsync(context, commands, command.RunId, conflict, logger);
            return;
        }
        if (queued.Version is null)
        {
            var recorded = await commands.FindAsync(command.RunId, context.CancellationToken);
            if (await lifecycle.FindAsync(command.RunId, context.CancellationToken) is { } recordedRun) await AnswerAsync(context, recordedRun, duplicate: true);
            else if (context.ResponseAddress is not null)
                await context.RespondAsync(new CommandRejected(command.RunId, nameof(ImportDataset), recorded?.Reason ?? "this id was already used"));
            return;
        }
        logger.LogInformation("Queued import {RunId}: {Dataset} v{Version} from {Source} '{Name}'", command.RunId, command.Dataset, queued.Version, command.Source, version.SourceName);
        signal.Wake();
        var answer = new DatasetImportQueued(command.RunId, command.Dataset, queued.Version.Value, false, queued.QueuedAt);
        await context.Publish(answer);
        if (context.ResponseAddress is not null) await context.RespondAsync(answer);
    }

    private string? Refusal(ImportDataset command)
    {
        if (command.RunId == Guid.Empty) return "runId: must be a non-empty id chosen by the sender";
        if (DataVolume.InvalidName(command.Dataset) is { } name) return $"dataset: {name}";
        if (command.ValidationFraction is < 0 or > 0.9 || command.ValidationFraction is { } f && double.IsNaN(f))
            return "validationFraction: must be from 0 to 0.9";
        switch (command.Source)
        {
            case "upload":
                if (!DataVolume.IsUploadId(command.Path)) return "path: an upload id is 32 hexadecimal digits";
                if (!File.Exists(dataRoot.Volume.UploadFile(command.Path))) return $"path: there is no upload '{command.Path}' on the data volume";
                return null;
            case "file" or "folder" or "imagenet":
                var (path, problem) = dataRoot.Volume.ResolveIncoming(command.Path);
                if (problem is not null) return "path: " + problem;
                if (command.Source == "file" && !File.Exists(path)) return $"path: '{command.Path}' is not a file (an archive) under {DataVolume.Incoming}/";
                if (command.Source != "file" && !Directory.Exists(path)) return $"path: '{command.Path}' is not a folder under {DataVolume.Incoming}/";
                return null;
            default:
                return $"source: '{command.Source}' is not one of {string.Join(", ", DatasetImportPlan.Sources)}";
        }
    }

    private async Task AnswerAsync(ConsumeContext<ImportDataset> context, Run run, bool duplicate)
    {
        if (context.ResponseAddress is null) return;
        var version = await lifecycle.ImportedVersionAsync(run.Id, context.CancellationToken);
        await context.RespondAsync(new DatasetImportQueued(run.Id, run.Dataset, version?.Version ?? 0, duplicate, run.CreatedAt));
    }

    private static string Truncate(string text, int length) => text.Length > length ? text[..length] : text;
}
