using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Datasets;
using SqueezeNext.Dashboard.Uploads;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.Dashboard.Datasets;

/// <summary>What the dashboard reads and removes of dataset versions on the shared data volume: thumbnails, and deleted versions.</summary>
public sealed class DatasetFiles(IOptions<DatasetUploadOptions> options, IDbContextFactory<JobsDbContext> databases, ILogger<DatasetFiles> logger)
{
    public DataVolume Volume { get; } = new(options.Value.DataRoot);

    /// <summary>A version's thumbnail file, or null when it has none (or its recorded folder is not where versions live).</summary>
    public string? Thumbnail(DatasetVersion version, int classIndex, int index)
    {
        if (VersionFolder(version.Path) is not { } folder || classIndex < 0 || index < 0) return null;
        var path = Path.Combine(folder, ".thumbnails", classIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"{index.ToString(System.Globalization.CultureInfo.InvariantCulture)}.jpg");
        return File.Exists(path) && new FileInfo(path).LinkTarget is null ? path : null;
    }

    /// <summary>How many thumbnails each class of a version has.</summary>
    public int ThumbnailCount(DatasetVersion version, int classIndex)
    {
        if (VersionFolder(version.Path) is not { } folder) return 0;
        var classFolder = Path.Combine(folder, ".thumbnails", classIndex.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Directory.Exists(classFolder) ? Directory.GetFiles(classFolder, "*.jpg").Length : 0;
    }

    /// <summary>Deletes a version that nothing uses: its row, then its folder on the volume.</summary>
    public async Task<VersionDeletion> DeleteVersionAsync(string name, int version, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var deletion = await new DatasetCatalog(db).DeleteVersionAsync(name, version, cancellationToken);
        if (deletion.Deleted)
        {
            logger.LogInformation("Deleted version {Version} of dataset {Dataset}", version, name);
            DeleteVersionFolder(deletion.Path);
        }
        return deletion;
    }

    private void DeleteVersionFolder(string? relative)
    {
        if (VersionFolder(relative) is not { } folder) return;
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException e)
        {
            logger.LogWarning("Could not delete the dataset folder {Folder}: {Message}", folder, e.Message);
        }
    }

    private string? VersionFolder(string? relative)
    {
        if (relative is null) return null;
        var folder = Path.GetFullPath(Path.Combine(Volume.Root, relative));
        return folder.StartsWith(Path.Combine(Volume.Root, DataVolume.Versions) + Path.DirectorySeparatorChar, StringComparison.Ordinal) && Directory.Exists(folder)
            ? folder
            : null;
    }
}
