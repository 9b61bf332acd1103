using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Inference;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Inference;

/// <summary>The answer to one image: its top labels and how it was computed.</summary>
/// <param name="BatchSize">Images in the forward pass that classified it.</param>
/// <param name="Elapsed">From the start of decoding to the end of the forward pass.</param>
public sealed record BatchedClassification(IReadOnlyList<Prediction> Predictions, int BatchSize, TimeSpan Elapsed);

/// <summary>
/// Classifies images one request at a time for its callers and runs them through the model in batches (dynamic
/// batching, as Triton and TorchServe do it): each image is decoded on its caller's thread, at most
/// <see cref="ClassificationOptions.DecodeThreads"/> at once, then queued. Each of
/// <see cref="ClassificationOptions.ConcurrentPasses"/> inference threads takes everything queued (up to
/// <see cref="ClassificationOptions.MaxBatchSize"/>) for its next forward pass. So a batch fills while other passes run:
/// under load the batches grow by themselves and nobody waits for a timer, and a lone request waits at most
/// <see cref="ClassificationOptions.MaxDelay"/> for company.
/// </summary>
public sealed class BatchingClassifier : IDisposable
{
    private readonly ClassificationOptions settings;
    private readonly WorkerMetrics metrics;
    private readonly ILogger<BatchingClassifier> logger;
    private readonly ImageDecoder decoder;
    private readonly SemaphoreSlim decodeSlots;
    private readonly Channel<PendingImage> queue = Channel.CreateUnbounded<PendingImage>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Thread[] inferenceThreads;
    private readonly int torchThreadsPerPass;
    private long passesStarted;

    public BatchingClassifier(IOptions<WorkerOptions> options, WorkerMetrics metrics, ILogger<BatchingClassifier> logger)
    {
        settings = options.Value.Classification;
        torchThreadsPerPass = settings.ThreadsPerPass(options.Value.TorchThreads);
        this.metrics = metrics;
        metrics.ObservePendingImages(() => queue.Reader.Count);
        this.logger = logger;
        decoder = new ImageDecoder(new ImageLimits { MaxBytes = settings.MaxImageBytes, MaxPixels = settings.MaxImagePixels });
        decodeSlots = new SemaphoreSlim(settings.DecodeThreads, settings.DecodeThreads);
        // Dispose scopes, no_grad and libtorch's thread count are per thread, and a forward pass must not hold a thread-pool thread.
        inferenceThreads = Enumerable.Range(1, settings.ConcurrentPasses)
            .Select(n => new Thread(RunInferenceLoop) { Name = $"classify inference {n}", IsBackground = true }).ToArray();
        foreach (var thread in inferenceThreads) thread.Start();
        logger.LogInformation("Classifying with {Engine} in forward passes of up to {MaxBatchSize} images, {Passes} at once on {Threads} threads each; " +
            "JPEGs decode with {Decoder}{Reduced}, {DecodeThreads} at once",
            settings.Engine, settings.MaxBatchSize, settings.ConcurrentPasses, torchThreadsPerPass, ImageDecoder.JpegDecoder,
            settings.ReducedSizeDecoding && ImageDecoder.JpegDecoder == "libjpeg-turbo" ? " at reduced size" : "", settings.DecodeThreads);
    }

    /// <summary>
    /// Decodes the image with the model's evaluation pre-processing and classifies it in the next forward pass.
    /// Throws <see cref="ImageDecodeException"/> for an image that cannot be decoded; <paramref name="what"/> names it there.
    /// </summary>
    public async Task<BatchedClassification> ClassifyAsync(ServedModel model, byte[] image, string what, int top, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var preprocessor = model.Classifier.Preprocessor;
        var input = ArrayPool<float>.Shared.Rent(preprocessor.ValuesPerImage);
        try
        {
            using (var decoding = WorkerTracing.Source.StartActivity("classify.decode"))
            {
                decoding?.SetTag("sqnxt.image.bytes", image.Length);
                await decodeSlots.WaitAsync(cancellationToken);
                try
                {
                    using var decoded = decoder.Decode(image, what, settings.ReducedSizeDecoding ? preprocessor.EvaluationMinimumSide : null);
                    preprocessor.Evaluate(decoded, input.AsSpan(0, preprocessor.ValuesPerImage));
                }
                finally
                {
                    decodeSlots.Release();
                }
            }
            metrics.RecordClassifyDecode(clock.Elapsed);

            var pending = new PendingImage(model, input, top, clock, Activity.Current?.Context, cancellationToken);
            if (!queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(BatchingClassifier), "the worker is stopping");
            return await pending.Completion.Task;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    /// <summary>Forward passes started since the worker started: whether classification is under way.</summary>
    public long PassesStarted => Interlocked.Read(ref passesStarted);

    private void RunInferenceLoop()
    {
        TorchSharp.torch.set_num_threads(torchThreadsPerPass);
        var reader = queue.Reader;
        var batch = new List<PendingImage>(settings.MaxBatchSize);
        while (WaitForFirst(reader, out var first))
        {
            batch.Add(first);
            GatherBatch(reader, batch);
            foreach (var group in batch.Where(p => !p.Cancel()).GroupBy(p => p.Model))
                RunForwardPass(group.Key, group.ToArray());
            batch.Clear();
        }
    }

    private static bool WaitForFirst(ChannelReader<PendingImage> reader, out PendingImage first)
    {
        while (!reader.TryRead(out first!))
        {
            if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) return false;
        }
        return true;
    }

    /// <summary>Adds whatever is queued, waiting up to MaxDelay from the first image's arrival while the batch is not full.</summary>
    private void GatherBatch(ChannelReader<PendingImage> reader, List<PendingImage> batch)
    {
        var deadline = batch[0].Queued + settings.MaxDelay;
        while (batch.Count < settings.MaxBatchSize)
        {
            if (reader.TryRead(out var next))
            {
                batch.Add(next);
                continue;
            }
            var remaining = deadline - batch[0].Clock.Elapsed;
            if (remaining <= TimeSpan.Zero) return;
            var arrival = reader.WaitToReadAsync().AsTask();
            if (!arrival.Wait(remaining) || !arrival.Result) return;
        }
    }

    private void RunForwardPass(ServedModel model, PendingImage[] images)
    {
        Interlocked.Increment(ref passesStarted);
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        try
        {
            int top = images.Max(p => p.Top);
            int values = model.Classifier.Preprocessor.ValuesPerImage;
            var predictions = model.Run(classifier =>
                classifier.ClassifyPreprocessed(images.Select(p => new ReadOnlyMemory<float>(p.Input, 0, values)).ToArray(), top));
            metrics.RecordClassifyBatch(images.Length, clock.Elapsed);
            RecordSpans(model, images, started, DateTimeOffset.UtcNow);
            for (int i = 0; i < images.Length; i++)
                images[i].Completion.TrySetResult(new BatchedClassification(predictions[i].Take(images[i].Top).ToArray(), images.Length, images[i].Clock.Elapsed));
        }
        catch (Exception e)
        {
            // An unloaded model is no fault of the pass: the consumer loads it again.
            if (e is not ModelUnavailableException)
                logger.LogError(e, "A classification forward pass of {Count} images on {Model} v{Version} failed", images.Length, model.Version.Name, model.Version.Version);
            foreach (var image in images) image.Completion.TrySetException(e);
        }
    }

    /// <summary>
    /// The pass in each request's own trace: its wait for the batch, and the pass with its batch size. One pass serves
    /// requests of several traces, so each gets its own copy of the pass's span.
    /// </summary>
    private static void RecordSpans(ServedModel model, PendingImage[] images, DateTimeOffset started, DateTimeOffset ended)
    {
        if (!WorkerTracing.Source.HasListeners()) return;
        foreach (var image in images)
        {
            if (image.Trace is not { } parent) continue;
            WorkerTracing.Record("classify.batch_wait", parent, image.QueuedAt, started);
            WorkerTracing.Record("classify.forward", parent, started, ended, ("sqnxt.batch_size", images.Length), ("sqnxt.model", model.Version.Name),
                ("sqnxt.model_version", model.Version.Version));
        }
    }

    /// <summary>Stops taking images; the inference threads finish what is queued (the bus has stopped consuming by now).</summary>
    public void Dispose()
    {
        queue.Writer.TryComplete();
        foreach (var thread in inferenceThreads) thread.Join();
        decodeSlots.Dispose();
    }

    /// <param name="trace">The request's span, under which the pass's spans are recorded.</param>
    private sealed class PendingImage(ServedModel model, float[] input, int top, Stopwatch clock, ActivityContext? trace, CancellationToken cancellationToken)
    {
        public ServedModel Model { get; } = model;
        public ActivityContext? Trace { get; } = trace;
        public DateTimeOffset QueuedAt { get; } = DateTimeOffset.UtcNow;
        public float[] Input { get; } = input;
        public int Top { get; } = top;
        public Stopwatch Clock { get; } = clock;
        public TimeSpan Queued { get; } = clock.Elapsed;
        public TaskCompletionSource<BatchedClassification> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Answers a request whose caller has gone (the worker is stopping) without running it; true then.</summary>
        public bool Cancel() => cancellationToken.IsCancellationRequested && Completion.TrySetCanceled(cancellationToken);
    }
}
