using SqueezeNext.Persistence.Datasets;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Data;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>
/// Reports the folders under this worker's data root as folder datasets (at start, then every few minutes), beside
/// what other workers report: it adds and refreshes, and folders nobody reports any more fade from the list.
/// </summary>
public sealed class DatasetScanner(DataRoot dataRoot, IServiceScopeFactory scopes, ILogger<DatasetScanner> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ScanAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not list the datasets under {Root}", dataRoot.Root);
            }
            try
            {
                await Task.Delay(Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        var rows = dataRoot.FolderNames().Select(name =>
        {
            try
            {
                var description = DatasetReader.Describe(Path.Combine(dataRoot.Root, name));
                return new Dataset
                {
                    Name = name, Layout = description.Kind, Classes = description.Classes, TrainImages = description.TrainImages ?? 0,
                    ValidationImages = description.ValidationImages,
                };
            }
            catch (Exception e) when (e is DatasetException or IOException or UnauthorizedAccessException)
            {
                return new Dataset { Name = name, Layout = "invalid", Error = e.Message };
            }
        }).ToList();

        using var scope = scopes.CreateScope();
        await new DatasetCatalog(scope.ServiceProvider.GetRequiredService<JobsDbContext>()).ReportFoldersAsync(rows, cancellationToken);
        logger.LogInformation("Found {Count} folder datasets under {Root}", rows.Count, dataRoot.Root);
    }
}
