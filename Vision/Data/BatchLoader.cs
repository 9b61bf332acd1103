using System.Collections.Concurrent;

namespace SqueezeNext.Vision.Data;

/// <summary>
/// Decodes and pre-processes batches on several threads into a bounded queue, handing them out in order. The
/// order of an epoch and every sample's augmentation depend only on (seed, epoch, sample), so a run is reproducible
/// on any thread count and a resume from (epoch, batch) continues exactly where it stopped. Images that cannot be
/// decoded are skipped and reported in <see cref="Batch.Failures"/>.
/// </summary>
public sealed class BatchLoader
{
    private readonly IImageDataset dataset;
    private readonly ImagePreprocessor preprocessor;
    private readonly ConcurrentBag<float[]> buffers = [];
    private int runningThreads;

    public BatchLoader(IImageDataset dataset, ImagePreprocessor preprocessor, LoaderOptions options)
    {
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "batch size must be at least 1");
        this.dataset = dataset;
        this.preprocessor = preprocessor;
        Options = options with
        {
            Threads = Math.Clamp(options.Threads, 1, 64),
            Prefetch = Math.Max(options.Prefetch, Math.Clamp(options.Threads, 1, 64)),
        };
        if (options.DropLast && dataset.Count < options.BatchSize)
            throw new DatasetException($"{dataset.Description}: {dataset.Count} images are fewer than one batch of {options.BatchSize}");
    }

    public LoaderOptions Options { get; }

    public IImageDataset Dataset => dataset;

    /// <summary>This loader's decoding threads that are running now: none once a read has ended or was abandoned.</summary>
    public int RunningThreads => Volatile.Read(ref runningThreads);

    public int BatchesPerEpoch => Options.DropLast
        ? dataset.Count / Options.BatchSize
        : (dataset.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Dataset indices in the order epoch <paramref name="epoch"/> visits them.</summary>
    public int[] EpochOrder(int epoch) =>
        Options.Shuffle ? DeterministicRandom.Permutation(dataset.Count, Options.Seed, epoch) : Enumerable.Range(0, dataset.Count).ToArray();

    /// <summary>The batches of one epoch from <paramref name="startBatch"/> on, decoded ahead on the loader threads.</summary>
    public IEnumerable<Batch> ReadEpoch(int epoch, int startBatch = 0, CancellationToken cancellationToken = default)
    {
        if (startBatch < 0 || startBatch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), $"batch {startBatch} is outside 0..{BatchesPerEpoch}");
        using var producer = new EpochProducer(this, epoch, startBatch, cancellationToken);
        for (int b = startBatch; b < BatchesPerEpoch; b++)
            yield return producer.Take(b);
    }

    /// <summary>Builds one batch on the calling thread (the loader threads call this).</summary>
    internal Batch BuildBatch(int epoch, int batchIndex, int[] order)
    {
        int begin = batchIndex * Options.BatchSize;
        int end = Math.Min(begin + Options.BatchSize, order.Length);
        int values = preprocessor.ValuesPerImage;
        var buffer = RentBuffer();
        var labels = new List<long>(end - begin);
        var indices = new List<int>(end - begin);
        var failures = new List<SampleFailure>();
        try
        {
            for (int position = begin; position < end; position++)
            {
                int sample = order[position];
                var destination = buffer.AsSpan(labels.Count * values, values);
                try
                {
                    using var image = dataset.Load(sample);
                    if (Options.Augment)
                        preprocessor.Train(image, DeterministicRandom.For(Options.Seed, epoch, sample), destination);
                    else
                        preprocessor.Evaluate(image, destination);
                }
                catch (ImageDecodeException e)
                {
                    failures.Add(new SampleFailure(sample, dataset.NameOf(sample), e.Message));
                    continue;
                }
                labels.Add(dataset.LabelOf(sample));
                indices.Add(sample);
            }
        }
        catch
        {
            ReturnBuffer(buffer);
            throw;
        }
        return new Batch(epoch, batchIndex, labels.Count, values, buffer, labels.ToArray(), indices.ToArray(), failures, ReturnBuffer);
    }

    private float[] RentBuffer() =>
        buffers.TryTake(out var buffer) ? buffer : new float[Options.BatchSize * preprocessor.ValuesPerImage];

    private void ReturnBuffer(float[] buffer)
    {
        // Keep no more buffers than can be in flight; the rest go to the garbage collector.
        if (buffers.Count < Options.Prefetch + 2) buffers.Add(buffer);
    }

    /// <summary>The loader threads of one epoch and the ordered hand-over of their batches.</summary>
    private sealed class EpochProducer : IDisposable
    {
        private readonly BatchLoader loader;
        private readonly int epoch;
        private readonly int[] order;
        private readonly int batchCount;
        private readonly CancellationTokenSource stop;
        private readonly SemaphoreSlim slots;
        private readonly Dictionary<int, Batch> ready = [];
        private readonly Thread[] threads;
        private readonly object gate = new();
        private int next;
        private Exception? failure;

        public EpochProducer(BatchLoader loader, int epoch, int startBatch, CancellationToken cancellationToken)
        {
            this.loader = loader;
            this.epoch = epoch;
            order = loader.EpochOrder(epoch);
            batchCount = loader.BatchesPerEpoch;
            next = startBatch - 1;
            stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            slots = new SemaphoreSlim(loader.Options.Prefetch);
            threads = Enumerable.Range(0, loader.Options.Threads).Select(i => new Thread(Work)
            {
                IsBackground = true,
                Name = $"batch-loader-{i}",
            }).ToArray();
            foreach (var thread in threads) thread.Start();
        }

        public Batch Take(int batchIndex)
        {
            lock (gate)
            {
                while (true)
                {
                    if (ready.Remove(batchIndex, out var batch))
                    {
                        slots.Release();
                        return batch;
                    }
                    if (failure is not null)
                        throw new DatasetException($"the data loader failed: {failure.Message}");
                    stop.Token.ThrowIfCancellationRequested();
                    Monitor.Wait(gate, 100);
                }
            }
        }

        private void Work()
        {
            Interlocked.Increment(ref loader.runningThreads);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    slots.Wait(stop.Token);
                    int batchIndex = Interlocked.Increment(ref next);
                    if (batchIndex >= batchCount) return;
                    var batch = loader.BuildBatch(epoch, batchIndex, order);
                    lock (gate)
                    {
                        ready[batchIndex] = batch;
                        Monitor.PulseAll(gate);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                lock (gate)
                {
                    failure ??= e;
                    Monitor.PulseAll(gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref loader.runningThreads);
            }
        }

        public void Dispose()
        {
            stop.Cancel();
            foreach (var thread in threads) thread.Join();
            foreach (var batch in ready.Values) batch.Dispose();
            ready.Clear();
            stop.Dispose();
            slots.Dispose();
        }
    }
}
