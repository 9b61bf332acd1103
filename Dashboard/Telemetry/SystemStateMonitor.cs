using Microsoft.Extensions.Options;
using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Dashboard.Telemetry;

/// <summary>
/// Reads the run queue from the database and the workers' queues from the broker every few seconds for
/// <see cref="DashboardMetrics"/>: a gauge's callback must not wait on a database, and a scrape should not cause one.
/// </summary>
public sealed class SystemStateMonitor(DashboardQueries queries, IOptions<RabbitMqOptions> rabbit, DashboardMetrics metrics,
    ILogger<SystemStateMonitor> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private static readonly string[] ErrorQueues = [.. QueueNames.WorkerQueues.Select(QueueNames.ErrorQueue)];
    private static readonly string[] Queues = [.. QueueNames.WorkerQueues, .. ErrorQueues];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var broker = new BrokerQueueDepths(rabbit.Value);
        using var timer = new PeriodicTimer(Period);
        bool failing = false;
        try
        {
            do
            {
                try
                {
                    var runs = await queries.RunCensusAsync(stoppingToken);
                    var queues = await broker.ReadAsync(Queues, stoppingToken);
                    // The broker declares an error queue at its first fault; until then it holds none, which an alert should see as 0.
                    var neverFaulted = ErrorQueues.Where(q => queues.All(d => d.Queue != q)).Select(q => new QueueDepth(q, 0, 0));
                    metrics.Publish(new SystemSnapshot(runs, [.. queues, .. neverFaulted]));
                    if (failing) logger.LogInformation("Reading the runs and queues for the metrics works again");
                    failing = false;
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    metrics.Publish(null);
                    if (!failing) logger.LogWarning(e, "Could not read the runs and queues for the metrics; their gauges are absent until it works again");
                    failing = true;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
