using System.Diagnostics.Metrics;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Dashboard.Telemetry;

/// <summary>
/// The dashboard's OpenTelemetry instruments (meter "SqueezeNext.Dashboard"): the state of the whole system as the
/// control plane sees it (runs by status, the broker's queues) and the commands and classify requests it sends for its
/// pages and the API. docs/operations.md says what each means.
/// </summary>
public sealed class DashboardMetrics : IDisposable
{
    public const string MeterName = "SqueezeNext.Dashboard";

    private readonly Meter meter = new(MeterName);
    private readonly TimeProvider clock;
    private readonly Counter<long> commands;
    private readonly Histogram<double> classifyMilliseconds;
    private volatile SystemSnapshot? snapshot;

    public DashboardMetrics(TimeProvider clock)
    {
        this.clock = clock;
        meter.CreateObservableGauge("sqnxt.runs", RunCounts, "{run}", "Runs in the database, by status and kind");
        meter.CreateObservableGauge("sqnxt.runs.oldest_queued_age", () => AgeOf(runs => runs.OldestQueuedAt), "s",
            "How long the oldest queued run has waited; 0 when none waits");
        meter.CreateObservableGauge("sqnxt.runs.stalest_heartbeat_age", () => AgeOf(runs => runs.StalestHeartbeatAt), "s",
            "Time since the oldest heartbeat of a running run (0 when none runs); above Worker:StaleAfter the run's worker is gone and no other has requeued it");
        meter.CreateObservableGauge("sqnxt.broker.queue.messages", () => QueueGauge(q => q.Messages), "{message}",
            "Messages waiting in each worker queue and its _error queue");
        meter.CreateObservableGauge("sqnxt.broker.queue.consumers", () => QueueGauge(q => q.Consumers), "{consumer}",
            "Consumers (worker processes) on each worker queue");
        commands = meter.CreateCounter<long>("sqnxt.commands", "{command}",
            "Commands the dashboard and its API sent to the workers, by command and outcome (answered, rejected, no_answer)");
        classifyMilliseconds = meter.CreateHistogram("sqnxt.classify.request_time", "ms",
            "Classify requests of the dashboard and its API from sending to the answer, by outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 25, 50, 75, 100, 150, 250, 500, 750, 1000, 2500, 5000, 10000, 30000] });
    }

    /// <summary>What the gauges report until the next snapshot; null when the system could not be read (the gauges go absent).</summary>
    public void Publish(SystemSnapshot? current) => snapshot = current;

    public void CountCommand(string command, string outcome) =>
        commands.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("outcome", outcome));

    public void RecordClassify(string outcome, TimeSpan elapsed) =>
        classifyMilliseconds.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("outcome", outcome));

    private IEnumerable<Measurement<int>> RunCounts()
    {
        if (snapshot?.Runs is not { } runs) yield break;
        // Every status and kind, zero included, so a rate or an alert sees a series from the start.
        foreach (var status in Enum.GetValues<RunStatus>())
        foreach (var kind in Enum.GetValues<RunKind>())
            yield return new Measurement<int>(runs.Counts.Where(c => c.Status == status && c.Kind == kind).Sum(c => c.Runs),
                new KeyValuePair<string, object?>("status", status.ToString().ToLowerInvariant()),
                new KeyValuePair<string, object?>("kind", kind.ToString().ToLowerInvariant()));
    }

    private IEnumerable<Measurement<double>> AgeOf(Func<RunCensus, DateTimeOffset?> since)
    {
        if (snapshot?.Runs is not { } runs) yield break;
        yield return new Measurement<double>(since(runs) is { } moment ? Math.Max(0, (clock.GetUtcNow() - moment).TotalSeconds) : 0);
    }

    private IEnumerable<Measurement<long>> QueueGauge(Func<QueueDepth, long> value) =>
        (snapshot?.Queues ?? []).Select(q => new Measurement<long>(value(q), new KeyValuePair<string, object?>("queue", q.Queue)));

    public void Dispose() => meter.Dispose();
}

/// <summary>The runs and the broker's queues as last read.</summary>
public sealed record SystemSnapshot(RunCensus Runs, IReadOnlyList<QueueDepth> Queues);
