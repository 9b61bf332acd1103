namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Deletes claim-check payloads older than their time to live from the shared store. Every worker sweeps (deleting
/// twice is harmless); the dashboard never does, so a store shared only by dashboards would need a worker.
/// </summary>
public sealed class MessageDataSweeper(ConfinedFileMessageDataRepository store, IOptions<MessageDataOptions> options, ILogger<MessageDataSweeper> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                int deleted = store.DeleteOlderThan(options.Value.TimeToLive);
                if (deleted > 0) logger.LogInformation("Deleted {Count} message data payloads older than {TimeToLive}", deleted, options.Value.TimeToLive);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Sweeping the message data store {Directory} failed", store.Root);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
