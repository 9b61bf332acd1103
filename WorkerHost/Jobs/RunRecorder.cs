using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Runtime;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Receives an attempt's metrics, events and checkpoints on the training thread, and writes them to the database and
/// the bus in batches from <see cref="FlushAsync"/>, so the training loop never waits on I/O. Everything goes out
/// under the attempt's lease: once it is lost, nothing more is written or published, and no file is put in place.
/// </summary>
public sealed class RunRecorder(RunLease lease, LeaseClock leaseClock, IServiceScopeFactory scopes, IPublishEndpoint publisher, ILogger logger)
    : ITrainingObserver
{
    private readonly Guid runId = lease.RunId;
    private readonly ConcurrentQueue<TrainingMetric> metrics = new();
    private readonly ConcurrentQueue<TrainingEvent> events = new();
    private readonly ConcurrentQueue<SavedCheckpoint> checkpoints = new();
    private readonly Dictionary<string, double> latest = [];
    private readonly object gate = new();
    private TrainingProgress? progress;
    private long publishedStep = -1;

    /// <summary>The latest progress, for the heartbeat.</summary>
    public RunProgress? Progress
    {
        get
        {
            lock (gate)
            {
                if (progress is null) return null;
                return new RunProgress(progress.Step, progress.TotalSteps, progress.Epoch, progress.ImagesPerSecond,
                    progress.Remaining?.TotalSeconds, Get(TrainingMetrics.ValidationTop1), Get(TrainingMetrics.ValidationTop5), Get(TrainingMetrics.ValidationLoss), BestTop1);
            }
        }
    }

    public double? BestTop1 { get; private set; }

    public void OnProgress(TrainingProgress trainingProgress)
    {
        lock (gate) progress = trainingProgress;
    }

    public void OnMetrics(IReadOnlyList<TrainingMetric> points)
    {
        lock (gate)
        {
            foreach (var point in points)
            {
                latest[point.Name] = point.Value;
                if (point.Name == TrainingMetrics.ValidationTop1 && (BestTop1 is null || point.Value > BestTop1)) BestTop1 = point.Value;
            }
        }
        foreach (var point in points) metrics.Enqueue(point);
    }

    /// <summary>Keeps the event for the run's record and logs it too, under the run's scope and span (a skipped image only at debug level: a bad dataset has many).</summary>
    public void OnEvent(TrainingEvent trainingEvent)
    {
        events.Enqueue(trainingEvent);
        var level = trainingEvent.Kind == TrainingEventKind.SkippedImage ? LogLevel.Debug
            : trainingEvent.Level switch { "error" => LogLevel.Error, "warning" => LogLevel.Warning, _ => LogLevel.Information };
        logger.Log(level, "Run {RunId} {Event}: {Message}", runId, trainingEvent.Kind, trainingEvent.Message);
    }

    public void OnCheckpoint(SavedCheckpoint checkpoint) => checkpoints.Enqueue(checkpoint);

    public bool MayWriteOutput => leaseClock.IsHeld;

    /// <summary>
    /// Writes what arrived since the last flush and publishes the run's progress. When the database is unreachable
    /// the items go back in the queues for the next flush, so nothing is lost while it restarts; when the lease is
    /// lost they are dropped.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var metricPoints = Drain(metrics);
        var trainingEvents = Drain(events);
        var checkpointInfos = Drain(checkpoints);
        if (!leaseClock.IsHeld) return;
        bool held;
        try
        {
            held = await WriteAsync(metricPoints, trainingEvents, checkpointInfos, cancellationToken);
        }
        catch
        {
            foreach (var point in metricPoints) metrics.Enqueue(point);
            foreach (var trainingEvent in trainingEvents) events.Enqueue(trainingEvent);
            foreach (var checkpoint in checkpointInfos) checkpoints.Enqueue(checkpoint);
            throw;
        }
        if (!held)
        {
            leaseClock.Lose();
            return;
        }

        // The events are for live views; the database is the record. A broker that is down or reconnecting must not
        // hold up the supervisor's heartbeat (which keeps the run's claim), so the publishes of one flush get a short
        // time together and whatever does not go out in it is dropped; the next progress event supersedes it.
        using var publishing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        publishing.CancelAfter(PublishTimeout);
        foreach (var checkpoint in checkpointInfos)
            await PublishBrieflyAsync(new CheckpointSaved(runId, checkpoint.Step, checkpoint.Epoch, checkpoint.Metrics, DateTimeOffset.UtcNow), publishing.Token);

        TrainingProgress? current;
        Dictionary<string, double> snapshot;
        lock (gate)
        {
            current = progress;
            snapshot = new Dictionary<string, double>(latest);
        }
        if (current is not null && current.Step != publishedStep)
        {
            publishedStep = current.Step;
            snapshot[TrainingMetrics.TrainLoss] = current.Loss;
            snapshot[TrainingMetrics.LearningRate] = current.LearningRate;
            snapshot[TrainingMetrics.ImagesPerSecond] = current.ImagesPerSecond;
            await PublishBrieflyAsync(new RunProgressed(runId, current.Step, current.TotalSteps, current.Epoch,
                snapshot.Where(p => double.IsFinite(p.Value)).ToDictionary(), current.Remaining?.TotalSeconds, DateTimeOffset.UtcNow), publishing.Token);
        }
    }

    /// <summary>How long the publishes of one flush may take before the rest are dropped.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Events that could not be published in time (the broker was unreachable).</summary>
    public int DroppedEvents => dropped;

    private int dropped;

    private async Task PublishBrieflyAsync<T>(T message, CancellationToken deadline) where T : class
    {
        if (deadline.IsCancellationRequested)
        {
            Interlocked.Increment(ref dropped);
            return;
        }
        try
        {
            await publisher.Publish(message, deadline);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.Increment(ref dropped);
        }
    }

    private async Task<bool> WriteAsync(List<TrainingMetric> metricPoints, List<TrainingEvent> trainingEvents, List<SavedCheckpoint> checkpointInfos,
        CancellationToken cancellationToken)
    {
        var records = new AttemptRecords(
            metricPoints.Select(m => new MetricPoint { RunId = runId, Step = m.Step, Epoch = m.Epoch, Name = m.Name, Value = m.Value }).ToList(),
            checkpointInfos.Select(c => new Checkpoint
            {
                RunId = runId, Step = c.Step, Epoch = c.Epoch, Path = c.Directory,
                MetricsJson = JsonSerializer.Serialize(c.Metrics.Where(p => double.IsFinite(p.Value)).ToDictionary()),
            }).ToList(),
            trainingEvents.Select(e => new RunEvent { RunId = runId, Kind = KindOf(e.Kind), Level = e.Level, Message = e.Message }).ToList());
        if (records.IsEmpty) return true;
        bool held = await scopes.UseRunLifecycleAsync(lifecycle => lifecycle.RecordAsync(lease, records, cancellationToken));
        if (held && metricPoints.Count > 0) FaultPoints.Reach(FaultPoints.MetricsFlush);
        return held;
    }

    /// <summary>The stored kind of an engine event: the job system's kinds include the engine's under the same names.</summary>
    public static RunEventKind KindOf(TrainingEventKind kind) => Enum.Parse<RunEventKind>(kind.ToString());

    private double? Get(string name) => latest.TryGetValue(name, out var value) && double.IsFinite(value) ? value : null;

    private static List<T> Drain<T>(ConcurrentQueue<T> queue)
    {
        var items = new List<T>();
        while (queue.TryDequeue(out var item)) items.Add(item);
        return items;
    }
}
