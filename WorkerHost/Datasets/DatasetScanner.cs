using Microsoft.EntityFrameworkCore;
using SqueezeNext.Vision.Data;
using DatasetRow = SqueezeNext.Persistence.Entities.Dataset;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>Lists the datasets under the data root into the database (at start, then every few minutes) for the dashboard.</summary>
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
        var rows = dataRoot.Names().Select(name =>
        {
            try
            {
                var description = DatasetReader.Describe(Path.Combine(dataRoot.Root, name));
                return new DatasetRow
                {
                    Name = name, Kind = description.Kind, Classes = description.Classes, TrainImages = description.TrainImages ?? 0,
                    ValidationImages = description.ValidationImages, SeenAt = DateTimeOffset.UtcNow,
                };
            }
            catch (Exception e) when (e is DatasetException or IOException or UnauthorizedAccessException)
            {
                return new DatasetRow { Name = name, Kind = "invalid", Error = e.Message, SeenAt = DateTimeOffset.UtcNow };
            }
        }).ToList();

        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Datasets.ExecuteDeleteAsync(cancellationToken);
        db.Datasets.AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Found {Count} datasets under {Root}", rows.Count, dataRoot.Root);
    }
}
