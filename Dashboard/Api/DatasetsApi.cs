using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Dashboard.Datasets;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Api;

/// <summary>/api/v1/datasets: versioned datasets and the folders workers found; upload, import and delete versions.</summary>
public static partial class DatasetsApi
{
    public static void MapDatasetsApi(this RouteGroupBuilder api)
    {
        var datasets = api.MapGroup("/datasets").WithTags("Datasets");
        datasets.MapGet("/", ListAsync).RequireAuthorization(Roles.Viewer)
            .WithName("ListDatasets").WithSummary("Every dataset: versioned ones (uploaded or imported; their newest ready version) and the folders workers found under their data roots");
        datasets.MapGet("/{name}", GetAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetDataset").WithSummary("A dataset with all its versions, newest first");
        datasets.MapGet("/{name}/versions/{version:int}", VersionAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetDatasetVersion").WithSummary("One version: its digest, classes and images per split, import report, and the runs that read it");
        datasets.MapGet("/{name}/versions/{version:int}/thumbnails/{classIndex:int}/{index:int}", ThumbnailAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetDatasetThumbnail").WithSummary("A sample image of a class (JPEG, 96×96), index 0 to 11")
            .Produces(StatusCodes.Status200OK, contentType: "image/jpeg");
        MapImports(datasets);
    }

    private static async Task<IResult> ListAsync(DashboardQueries queries, CancellationToken cancellationToken) =>
        Results.Ok((await queries.DatasetsAsync(cancellationToken)).Select(DatasetInfo.Of).ToList());

    private static async Task<IResult> GetAsync(DashboardQueries queries, string name, CancellationToken cancellationToken)
    {
        var row = (await queries.DatasetsAsync(cancellationToken)).FirstOrDefault(d => d.Dataset.Name == name);
        if (row is null || await queries.DatasetAsync(name, cancellationToken) is not { } dataset) return CommandResults.NotFound($"There is no dataset '{name}'.");
        return Results.Ok(new DatasetDetails(DatasetInfo.Of(row), dataset.Versions.Select(v => DatasetVersionInfo.Of(v, null)).ToList()));
    }

    private static async Task<IResult> VersionAsync(DashboardQueries queries, string name, int version, CancellationToken cancellationToken)
    {
        if (await queries.DatasetVersionAsync(name, version, cancellationToken) is not { } found)
            return CommandResults.NotFound($"Dataset '{name}' has no version {version}.");
        var runs = await queries.RunsOfVersionAsync(found.Id, cancellationToken: cancellationToken);
        return Results.Ok(DatasetVersionInfo.Of(found, runs.Select(r => r.Id).ToList(), await queries.DatasetVersionReportAsync(found.Id, cancellationToken)));
    }

    private static async Task<IResult> ThumbnailAsync(DashboardQueries queries, DatasetFiles files, string name, int version, int classIndex, int index,
        CancellationToken cancellationToken)
    {
        var found = await queries.DatasetVersionAsync(name, version, cancellationToken);
        var path = found is null ? null : files.Thumbnail(found, classIndex, index);
        return path is null ? CommandResults.NotFound($"Dataset '{name}' v{version} has no thumbnail {classIndex}/{index}.") : Results.File(path, "image/jpeg");
    }
}
