using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Data;

namespace SqueezeNext.Dashboard.Datasets;

/// <summary>The dataset pages' images, with the login cookie: each version's sample thumbnails.</summary>
public static class DatasetFileEndpoints
{
    public const string ThumbnailPrefix = "/dataset-files";

    public static void MapDatasetFiles(this WebApplication app) =>
        app.MapGet(ThumbnailPrefix + "/{name}/{version:int}/{classIndex:int}/{index:int}.jpg", ThumbnailAsync)
            .RequireAuthorization(Roles.Viewer).ExcludeFromDescription();

    private static async Task<IResult> ThumbnailAsync(DashboardQueries queries, DatasetFiles files, string name, int version, int classIndex, int index,
        CancellationToken cancellationToken)
    {
        var found = await queries.DatasetVersionAsync(name, version, cancellationToken);
        return found is not null && files.Thumbnail(found, classIndex, index) is { } path
            ? Results.File(path, "image/jpeg", enableRangeProcessing: false)
            : Results.NotFound();
    }
}
