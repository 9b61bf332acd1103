using System.Diagnostics.Metrics;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Telemetry;

/// <summary>The worker's OpenTelemetry instruments (meter "SqueezeNext.Worker"), exported on /metrics.</summary>
public sealed class WorkerMetrics : IDisposable
{
    public const string MeterName = "SqueezeNext.Worker";

    private readonly Meter meter = new(MeterName);
    private readonly Histogram<double> runQueueSeconds;
    private readonly Histogram<double> classifyQueueMilliseconds;
    private readonly Histogram<int> classifyBatchSize;
    private readonly Histogram<double> inferenceMilliseconds;
    private readonly Histogram<double> decodeMilliseconds;
    private readonly Counter<long> classifyRequests;
    private double trainingImagesPerSecond;

    public WorkerMetrics()
    {
        runQueueSeconds = meter.CreateHistogram<double>("sqnxt.run.queue_time", "s", "Time a run waited between submission and its first claim");
        classifyQueueMilliseconds = meter.CreateHistogram<double>("sqnxt.classify.queue_time", "ms", "Time a classify request waited between sending and consumption");
        classifyBatchSize = meter.CreateHistogram<int>("sqnxt.classify.batch_size", "{image}", "Images per classification forward pass");
        inferenceMilliseconds = meter.CreateHistogram<double>("sqnxt.classify.inference_time", "ms", "Time of a classification forward pass, softmax and top k");
        decodeMilliseconds = meter.CreateHistogram<double>("sqnxt.classify.decode_time", "ms", "Time to decode and pre-process a classify request's image, waiting for a decode slot included");
        classifyRequests = meter.CreateCounter<long>("sqnxt.classify.requests", "{request}", "Classify requests by outcome");
        meter.CreateObservableGauge("sqnxt.training.throughput", () => trainingImagesPerSecond, "{image}/s", "Training images per second of the running job");
        // Every tensor the process holds; flat over time when every batch runs in its own dispose scope (a leak grows it).
        meter.CreateObservableGauge("sqnxt.torch.live_tensors", () => TorchSharp.torch.Tensor.TotalCount, "{tensor}", "Tensors alive in the worker process");
        meter.CreateObservableGauge("sqnxt.onnxruntime.sessions", () => Vision.Inference.OnnxRuntimeForwardPass.LiveSessions, "{session}", "ONNX Runtime sessions open in the worker process, one per cached model served by the onnxruntime engine");
    }

    public void RecordQueueTime(Run run)
    {
        if (run.Attempts <= 1) runQueueSeconds.Record((DateTimeOffset.UtcNow - run.CreatedAt).TotalSeconds);
    }

    public void RecordClassifyQueueTime(TimeSpan waited) => classifyQueueMilliseconds.Record(waited.TotalMilliseconds);

    public void RecordClassifyBatch(int size, TimeSpan elapsed)
    {
        classifyBatchSize.Record(size);
        inferenceMilliseconds.Record(elapsed.TotalMilliseconds);
    }

    public void RecordClassifyDecode(TimeSpan elapsed) => decodeMilliseconds.Record(elapsed.TotalMilliseconds);

    public void CountClassify(string outcome, int count = 1) => classifyRequests.Add(count, new KeyValuePair<string, object?>("outcome", outcome));

    public void SetTrainingThroughput(double imagesPerSecond) => trainingImagesPerSecond = imagesPerSecond;

    public void Dispose() => meter.Dispose();
}
