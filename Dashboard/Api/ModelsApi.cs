using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Messaging;
using SqueezeNext.Dashboard.Data;

namespace SqueezeNext.Dashboard.Api;

/// <summary>/api/v1/models: names and versions; register, import and promote through the workers.</summary>
public static class ModelsApi
{
    /// <summary>The largest weights file an import takes (the workers' own default limit).</summary>
    public const long MaxImportBytes = 100L * 1024 * 1024;

    public static void MapModelsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Models");
        models.MapGet("/", ListAsync).RequireAuthorization(Roles.Viewer)
            .WithName("ListModels").WithSummary("Model names with their serving and latest versions");
        models.MapGet("/{name}/versions", VersionsAsync).RequireAuthorization(Roles.Viewer)
            .WithName("ListModelVersions").WithSummary("A model's versions, newest first, each with its latest evaluation");
        models.MapGet("/{name}/versions/{version:int}", VersionAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetModelVersion").WithSummary("One version of a model");
        models.MapPost("/{name}/versions", RegisterAsync).RequireAuthorization(Roles.Admin)
            .WithName("RegisterModelVersion").WithSummary("Register a training run's model (a checkpoint, or its final model) as the next version");
        models.MapPost("/{name}/versions/import", ImportAsync).RequireAuthorization(Roles.Admin)
            .WithName("ImportModelVersion").WithSummary("Upload weights (a safetensors export, or a PyTorch state dict with its configuration) as the next version")
            .DisableAntiforgery().WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxImportBytes + 1024 * 1024));
        models.MapGet("/{name}/versions/{version:int}/download", DownloadAsync).RequireAuthorization(Roles.Viewer)
            .WithName("DownloadModelVersion").WithSummary("The version as one file: format=safetensors (default; with configuration and classes), onnx or pytorch")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");
        models.MapPost("/{name}/versions/{version:int}/promote", PromoteAsync).RequireAuthorization(Roles.Admin)
            .WithName("PromoteModelVersion").WithSummary("Make the version the one that serves its name");
    }

    private static async Task<IResult> ListAsync(DashboardQueries queries, CancellationToken cancellationToken)
    {
        var rows = await queries.ModelVersionsAsync(cancellationToken);
        return Results.Ok(rows.GroupBy(r => r.Version.Name).Select(g =>
        {
            var latest = g.MaxBy(r => r.Version.Version)!.Version;
            return new ModelSummary(g.Key, g.Count(), g.FirstOrDefault(r => r.Version.IsServing)?.Version.Version, latest.Version, latest.ConfigurationName,
                g.Max(r => r.Version.PromotedAt is { } promoted && promoted > r.Version.CreatedAt ? promoted : r.Version.CreatedAt));
        }).ToList());
    }

    private static async Task<IResult> VersionsAsync(DashboardQueries queries, string name, CancellationToken cancellationToken)
    {
        var rows = (await queries.ModelVersionsAsync(cancellationToken)).Where(r => r.Version.Name == name).ToList();
        if (rows.Count == 0) return CommandResults.NotFound($"There is no model '{name}'.");
        return Results.Ok(rows.OrderByDescending(r => r.Version.Version).Select(Info).ToList());
    }

    private static async Task<IResult> VersionAsync(DashboardQueries queries, string name, int version, CancellationToken cancellationToken)
    {
        var row = (await queries.ModelVersionsAsync(cancellationToken)).FirstOrDefault(r => r.Version.Name == name && r.Version.Version == version);
        return row is null ? CommandResults.NotFound($"Model '{name}' has no version {version}.") : Results.Ok(Info(row));
    }

    private static async Task<IResult> RegisterAsync(WorkerCommands commands, string name, RegisterRequest request)
    {
        var command = new RegisterModel(request.CommandId ?? MassTransit.NewId.NextGuid(), name, request.RunId, request.CheckpointStep, request.Description);
        return CommandResults.From(await commands.RequestAsync<RegisterModel, ModelRegistered>(command), Created);
    }

    private static async Task<IResult> ImportAsync(WorkerCommands commands, string name, IFormFile file, [Microsoft.AspNetCore.Mvc.FromForm] string? format,
        [Microsoft.AspNetCore.Mvc.FromForm] string? configuration, [Microsoft.AspNetCore.Mvc.FromForm] string? description,
        [Microsoft.AspNetCore.Mvc.FromForm] Guid? commandId, CancellationToken cancellationToken)
    {
        if (file.Length == 0) return CommandResults.Invalid("file", "the file is empty");
        if (file.Length > MaxImportBytes) return CommandResults.Invalid("file", $"{file.Length:N0} bytes; weights files up to {MaxImportBytes:N0} bytes can be imported");
        format ??= file.FileName.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? "safetensors" : "pytorch";
        using var buffer = new MemoryStream((int)file.Length);
        await file.CopyToAsync(buffer, cancellationToken);
        var reply = await commands.ImportAsync(commandId ?? MassTransit.NewId.NextGuid(), name, Path.GetFileName(file.FileName), format, buffer.ToArray(),
            string.IsNullOrWhiteSpace(configuration) ? null : configuration.Trim(), description);
        return CommandResults.From(reply, Created);
    }

    private static async Task<IResult> DownloadAsync(DashboardQueries queries, WorkerCommands commands, string name, int version, string? format,
        CancellationToken cancellationToken)
    {
        format ??= "safetensors";
        if (format is not ("safetensors" or "onnx" or "pytorch")) return CommandResults.Invalid("format", $"'{format}' is not safetensors, onnx or pytorch");
        // Known here, rather than after the export's long wait for a worker.
        if (!(await queries.ModelVersionsAsync(cancellationToken)).Any(r => r.Version.Name == name && r.Version.Version == version))
            return CommandResults.NotFound($"Model '{name}' has no version {version}.");
        var reply = await commands.ExportAsync(new ExportModel(MassTransit.NewId.NextGuid(), name, version, format));
        if (reply.Answer is not { } exported) return CommandResults.From(reply, _ => Results.Empty);
        byte[] file;
        try
        {
            file = await commands.ReadExportAsync(exported);
        }
        catch (MassTransit.MessageDataException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The export could not be read",
                detail: $"{e.Message}. The dashboard and the workers must share the message data store (MessageData__Directory).");
        }
        return new DownloadResult(Results.File(file, "application/octet-stream", exported.FileName), exported.Sha256);
    }

    /// <summary>The file, with its SHA-256 in a header so a client can check what it saved.</summary>
    private sealed class DownloadResult(IResult file, string sha256) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers["X-Content-SHA256"] = sha256;
            return file.ExecuteAsync(httpContext);
        }
    }

    private static async Task<IResult> PromoteAsync(WorkerCommands commands, string name, int version, PromoteRequest? request)
    {
        var command = new PromoteModel(request?.CommandId ?? MassTransit.NewId.NextGuid(), name, version);
        return CommandResults.From(await commands.RequestAsync<PromoteModel, ModelPromoted>(command),
            promoted => Results.Ok(new ModelVersionChanged(promoted.ModelName, promoted.Version, promoted.Time)));
    }

    private static IResult Created(ModelRegistered registered) =>
        Results.Created($"/api/v1/models/{registered.ModelName}/versions/{registered.Version}", new ModelVersionChanged(registered.ModelName, registered.Version, registered.Time));

    private static ModelVersionInfo Info(ModelVersionRow row) => ModelVersionInfo.Of(row.Version, row.LatestEvaluation, row.LatestEvaluation?.Dataset);
}
