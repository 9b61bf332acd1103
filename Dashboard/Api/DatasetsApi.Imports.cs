using System.Security.Claims;
using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Messaging;
using SqueezeNext.Dashboard.Datasets;
using SqueezeNext.Dashboard.Uploads;
using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.Dashboard.Api;

/// <summary>
/// A request to import a new version. Name exactly one source: a finished upload (its id from /uploads), or an
/// archive, a folder or the ILSVRC-2012 archives already under the data volume's incoming/ folder.
/// </summary>
/// <param name="Upload">The id of a completed upload made with the tus protocol at /api/v1/uploads.</param>
/// <param name="File">A zip, tar or tar.gz under incoming/, e.g. "flowers.zip".</param>
/// <param name="Folder">A folder of class folders (or train/ and val/) under incoming/.</param>
/// <param name="ImageNet">A folder under incoming/ holding ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar.</param>
/// <param name="ValidationFraction">Share of each class split off for validation when the data has no val/ (0 to 0.9; default 0.2).</param>
/// <param name="Seed">Seed of that split (default 0): the same data and seed give the same split.</param>
/// <param name="RunId">The import run's id, the idempotency key (chosen by the server when left out).</param>
public sealed record DatasetImportRequest(string? Upload = null, string? File = null, string? Folder = null, string? ImageNet = null,
    double? ValidationFraction = null, int? Seed = null, Guid? RunId = null);

/// <summary>An accepted import: the run that imports, and the version it will make.</summary>
public sealed record DatasetImportAccepted(Guid RunId, string Dataset, int Version, bool Duplicate, DateTimeOffset QueuedAt);

public static partial class DatasetsApi
{
    private static void MapImports(RouteGroupBuilder datasets)
    {
        datasets.MapPost("/{name}/versions", ImportAsync).RequireAuthorization(Roles.Operator)
            .WithName("ImportDatasetVersion")
            .WithSummary("Import the next version from a finished upload or from incoming/ on the data volume; a worker imports it as a run of kind import (202, Location: the version)")
            .Produces<DatasetImportAccepted>(StatusCodes.Status202Accepted);
        datasets.MapDelete("/{name}/versions/{version:int}", DeleteAsync).RequireAuthorization(Roles.Admin)
            .WithName("DeleteDatasetVersion").WithSummary("Delete a version that no run has read (409 naming the runs otherwise)");
    }

    private static async Task<IResult> ImportAsync(WorkerCommands commands, UploadStore uploads, ClaimsPrincipal user, string name, DatasetImportRequest request)
    {
        if (DataVolume.InvalidName(name) is { } problem) return CommandResults.Invalid("name", problem);
        var sources = new (string Source, string? Path)[] { ("upload", request.Upload), ("file", request.File), ("folder", request.Folder), ("imagenet", request.ImageNet) }
            .Where(s => !string.IsNullOrWhiteSpace(s.Path)).ToList();
        if (sources.Count != 1) return CommandResults.Invalid("upload", "name exactly one of upload, file, folder and imageNet");
        var (source, path) = sources[0];
        string? fileName = null;
        if (source == "upload")
        {
            var account = user.Identity!.Name!;
            var upload = UploadStore.IsValidId(path) ? uploads.Find(path, account) : null;
            if (upload is null) return CommandResults.Invalid("upload", $"there is no upload '{path}' of yours");
            if (!upload.IsComplete) return CommandResults.Invalid("upload", $"upload '{path}' has {upload.Offset:N0} of its {upload.Length:N0} bytes; finish it first");
            fileName = upload.FileName;
        }
        var command = new ImportDataset(request.RunId ?? NewId.NextGuid(), name, source, path!, fileName, request.ValidationFraction, request.Seed, user.Identity!.Name);
        var reply = await commands.RequestAsync<ImportDataset, DatasetImportQueued>(command);
        return CommandResults.From(reply, queued => Results.Accepted($"{ApiEndpoints.Prefix}/datasets/{queued.Dataset}/versions/{queued.Version}",
            new DatasetImportAccepted(queued.RunId, queued.Dataset, queued.Version, queued.Duplicate, queued.QueuedAt)));
    }

    private static async Task<IResult> DeleteAsync(DatasetFiles files, string name, int version, CancellationToken cancellationToken)
    {
        var deletion = await files.DeleteVersionAsync(name, version, cancellationToken);
        if (deletion.NotFound) return CommandResults.NotFound(deletion.Refusal!);
        if (!deletion.Deleted) return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The version is in use", detail: deletion.Refusal);
        return Results.NoContent();
    }
}
