using System.Diagnostics.Metrics;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Telemetry;

/// <summary>
/// The worker's OpenTelemetry instruments (meter "SqueezeNext.Worker"), on /metrics and over OTLP when configured;
/// docs/operations.md says what each means. The state behind the gauges stays with its owners, which register it here.
/// </summary>
public sealed class WorkerMetrics : IDisposable
{
    public const string MeterName = "SqueezeNext.Worker";

    private static readonly InstrumentAdvice<double> Milliseconds = new()
    {
        HistogramBucketBoundaries = [1, 2.5, 5, 10, 25, 50, 75, 100, 150, 250, 500, 750, 1000, 2500, 5000, 10000, 30000],
    };

    private static readonly InstrumentAdvice<int> BatchSizes = new() { HistogramBucketBoundaries = [1, 2, 4, 8, 12, 16, 24, 32, 64] };

    private readonly Meter meter = new(MeterName);
    private readonly Histogram<double> runQueueSeconds;
    private readonly Counter<long> runsEnded;
    private readonly Counter<long> runsRequeued;
    private readonly Histogram<double> classifyQueueMilliseconds;
    private readonly Histogram<double> classifyLatencyMilliseconds;
    private readonly Histogram<int> classifyBatchSize;
    private readonly Histogram<double> inferenceMilliseconds;
    private readonly Histogram<double> decodeMilliseconds;
    private readonly Counter<long> classifyRequests;
    private readonly Counter<long> modelLookups;
    private readonly Histogram<double> modelLoadMilliseconds;
    private double trainingImagesPerSecond;
    private Func<int> activeRuns = () => 0;
    private Func<int> pendingImages = () => 0;
    private Func<int> cachedModels = () => 0;

    public WorkerMetrics()
    {
        runQueueSeconds = meter.CreateHistogram<double>("sqnxt.run.queue_time", "s", "Time a run waited between submission and its first claim",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400] });
        runsEnded = meter.CreateCounter<long>("sqnxt.runs.ended", "{attempt}", "Run attempts this worker ended, by kind and outcome (completed, failed, cancelled, released, lease_lost)");
        runsRequeued = meter.CreateCounter<long>("sqnxt.runs.requeued_stale", "{run}", "Runs this worker queued again because their worker stopped heart-beating");
        meter.CreateObservableGauge("sqnxt.runs.active", () => activeRuns(), "{run}", "Runs this worker is running now");
        meter.CreateObservableGauge("sqnxt.training.throughput", () => trainingImagesPerSecond, "{image}/s", "Training images per second of the running job");

        classifyQueueMilliseconds = meter.CreateHistogram("sqnxt.classify.queue_time", "ms", "Time a classify request waited between sending and consumption", advice: Milliseconds);
        classifyLatencyMilliseconds = meter.CreateHistogram("sqnxt.classify.latency", "ms",
            "Time from a classify request's sending to its answer, by outcome (the broker's queue included, the answer's way back not)", advice: Milliseconds);
        classifyBatchSize = meter.CreateHistogram("sqnxt.classify.batch_size", "{image}", "Images per classification forward pass", advice: BatchSizes);
        inferenceMilliseconds = meter.CreateHistogram("sqnxt.classify.inference_time", "ms", "Time of a classification forward pass, softmax and top k", advice: Milliseconds);
        decodeMilliseconds = meter.CreateHistogram("sqnxt.classify.decode_time", "ms", "Time to decode and pre-process a classify request's image, waiting for a decode slot included", advice: Milliseconds);
        classifyRequests = meter.CreateCounter<long>("sqnxt.classify.requests", "{request}", "Classify requests by outcome");
        meter.CreateObservableGauge("sqnxt.classify.pending", () => pendingImages(), "{image}", "Decoded images waiting for a forward pass");

        meter.CreateObservableGauge("sqnxt.model_cache.models", () => cachedModels(), "{model}", "Model versions loaded for classification");
        modelLookups = meter.CreateCounter<long>("sqnxt.model_cache.lookups", "{lookup}", "Model lookups of classify requests, by result (hit, load)");
        modelLoadMilliseconds = meter.CreateHistogram("sqnxt.model_cache.load_time", "ms", "Time to load a model version into the cache", advice: Milliseconds);
        // Every tensor the process holds; flat over time when every batch runs in its own dispose scope (a leak grows it).
        meter.CreateObservableGauge("sqnxt.torch.live_tensors", () => TorchSharp.torch.Tensor.TotalCount, "{tensor}", "Tensors alive in the worker process");
        meter.CreateObservableGauge("sqnxt.onnxruntime.sessions", () => Vision.Inference.OnnxRuntimeForwardPass.LiveSessions, "{session}", "ONNX Runtime sessions open in the worker process, one per cached model served by the onnxruntime engine");
    }

    public void ObserveActiveRuns(Func<int> count) => activeRuns = count;

    public void ObservePendingImages(Func<int> count) => pendingImages = count;

    public void ObserveCachedModels(Func<int> count) => cachedModels = count;

    public void RecordQueueTime(Run run)
    {
        if (run.Attempts <= 1) runQueueSeconds.Record((DateTimeOffset.UtcNow - run.CreatedAt).TotalSeconds);
    }

    public void CountRunEnded(RunKind kind, string outcome) =>
        runsEnded.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString().ToLowerInvariant()), new KeyValuePair<string, object?>("outcome", outcome));

    public void CountRequeuedStale(int runs) => runsRequeued.Add(runs);

    public void RecordClassifyQueueTime(TimeSpan waited) => classifyQueueMilliseconds.Record(waited.TotalMilliseconds);

    /// <summary>Counts a classify request's answer, and its latency when the sender's clock stamped it.</summary>
    public void RecordClassifyAnswer(string outcome, TimeSpan? sinceSent)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        classifyRequests.Add(1, tag);
        if (sinceSent is { } latency) classifyLatencyMilliseconds.Record(Math.Max(0, latency.TotalMilliseconds), tag);
    }

    public void RecordClassifyBatch(int size, TimeSpan elapsed)
    {
        classifyBatchSize.Record(size);
        inferenceMilliseconds.Record(elapsed.TotalMilliseconds);
    }

    public void RecordClassifyDecode(TimeSpan elapsed) => decodeMilliseconds.Record(elapsed.TotalMilliseconds);

    public void CountModelLookup(bool hit) => modelLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "load"));

    public void RecordModelLoad(TimeSpan elapsed) => modelLoadMilliseconds.Record(elapsed.TotalMilliseconds);

    public void SetTrainingThroughput(double imagesPerSecond) => trainingImagesPerSecond = imagesPerSecond;

    public void Dispose() => meter.Dispose();
}
