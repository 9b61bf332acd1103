using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Onnx;
using TorchSharp;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Writes a registered model version as one file (safetensors, ONNX or a PyTorch state dict) into the shared message
/// data store and answers with its address: the dashboard, which has neither the engine nor the artifact volume,
/// serves it as a download. ONNX graphs are kept beside the weights, so a second download is a file read.
/// </summary>
public sealed class ExportModelConsumer(JobsDbContext db, MessagePayloads payloads, IOptions<WorkerOptions> options, ILogger<ExportModelConsumer> logger)
    : IConsumer<ExportModel>
{
    public static readonly IReadOnlyDictionary<string, string> Extensions = new Dictionary<string, string>
    {
        ["safetensors"] = ".safetensors",
        ["onnx"] = ".onnx",
        ["pytorch"] = ".pth",
    };

    public async Task Consume(ConsumeContext<ExportModel> context)
    {
        var request = context.Message;
        if (!Extensions.TryGetValue(request.Format ?? "", out var extension))
        {
            await RejectAsync(context, $"format: '{request.Format}' is not one of {string.Join(", ", Extensions.Keys)}");
            return;
        }
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == request.ModelName && v.Version == request.Version, context.CancellationToken);
        if (version is null)
        {
            await RejectAsync(context, $"model '{request.ModelName}' has no version {request.Version}");
            return;
        }
        if (!payloads.HasStore)
        {
            await RejectAsync(context, $"this worker has no message data store ({MessageDataOptions.Section}__Directory) to hand the file over");
            return;
        }

        byte[] file;
        try
        {
            var staging = ModelVersions.StagingFolder(options.Value.ArtifactRoot, request.RequestId);
            file = await Task.Run(() => Export(version.Path, request.Format!, staging), context.CancellationToken);
        }
        catch (ArtifactException e)
        {
            await RejectAsync(context, e.Message);
            return;
        }
        var data = await payloads.StoreAsync(file, context.CancellationToken);
        var fileName = $"{version.Name}-v{version.Version}{extension}";
        logger.LogInformation("Exported {Model} v{Version} as {Format} ({Bytes:N0} bytes)", version.Name, version.Version, request.Format, file.LongLength);
        await context.RespondAsync(new ModelExported(request.RequestId, version.Name, version.Version, request.Format!, fileName, file.LongLength,
            Convert.ToHexStringLower(SHA256.HashData(file)), data));
    }

    /// <summary>The file's bytes; safetensors and PyTorch files are written in <paramref name="staging"/> (under the artifact root) first.</summary>
    private static byte[] Export(string directory, string format, string staging)
    {
        using var scope = torch.NewDisposeScope();
        if (format == "onnx")
        {
            using var model = ModelArtifact.Load(directory);
            return OnnxModelFile.For(model, directory);
        }
        var file = Path.Combine(staging, "export" + Extensions[format]);
        try
        {
            Directory.CreateDirectory(staging);
            if (format == "pytorch") ModelExport.ToPytorch(directory, file);
            else ModelExport.ToSafetensors(directory, file);
            return File.ReadAllBytes(file);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private async Task RejectAsync(ConsumeContext<ExportModel> context, string reason)
    {
        logger.LogInformation("Export of {Model} v{Version} refused: {Reason}", context.Message.ModelName, context.Message.Version, reason);
        await context.RespondAsync(new CommandRejected(context.Message.RequestId, nameof(ExportModel), reason));
    }
}
