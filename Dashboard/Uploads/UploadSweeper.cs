namespace SqueezeNext.Dashboard.Uploads;

/// <summary>
/// Deletes unfinished uploads that stopped receiving bytes longer ago than Datasets:IncompleteUploadExpiry, so that
/// abandoned multi-gigabyte uploads do not fill the data volume. Every dashboard replica sweeps; deleting twice is harmless.
/// </summary>
public sealed class UploadSweeper(UploadStore store, ILogger<UploadSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    int deleted = await store.DeleteExpiredAsync(stoppingToken);
                    if (deleted > 0) logger.LogInformation("Deleted {Count} unfinished uploads older than {Expiry}", deleted, store.Options.IncompleteUploadExpiry);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    logger.LogWarning(e, "Sweeping the uploads in {Folder} failed", store.Folder);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
