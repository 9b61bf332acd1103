using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// A bounded load test of the classify queue on loopback: a fixed number of requests at each of several concurrency
/// levels, measuring throughput and p50/p99 latency, with no request lost and the worker's live tensor count and resident memory flat after a warm-up.
/// `SQNXT_LOAD_REQUESTS` scales the total (scripts/load-test.sh runs 10,000), spread evenly over the levels; `SQNXT_LOAD_IMAGES` picks what is sent:
/// `photos` (default: the four test photos as they are, up to 1728×1152, two of them PNG) or `imagenet` (JPEGs of
/// ImageNet's typical 500×375 made from them). The figures go to artifacts/performance/classify-load-{images}[-{engine}][-pinned].json
/// and docs/performance.md.
/// Over 200 lines as one load test and the measurements it reports.
/// </summary>
[Trait("Level", "processes")]
public sealed class ClassifyLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The concurrency levels, 1, 4, 16, 32 and 64 unless `SQNXT_LOAD_CONCURRENCY` lists others (e.g. "64" to profile saturation).</summary>
    private static readonly int[] Concurrency = Environment.GetEnvironmentVariable("SQNXT_LOAD_CONCURRENCY") is { Length: > 0 } levels
        ? levels.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()
        : [1, 4, 16, 32, 64];

    /// <summary>
    /// Requests are sent non-persistent, as the product's waiting callers send them (docs/messages.md), unless
    /// `SQNXT_LOAD_PERSISTENT=1` sends them as MassTransit's default does, written to the broker's disk.
    /// </summary>
    private static readonly bool PersistentRequests = Environment.GetEnvironmentVariable("SQNXT_LOAD_PERSISTENT") == "1";

    /// <summary>
    /// The worker's Worker:Classification:Engine: `SQNXT_LOAD_ENGINE` (onnxruntime or torch), or the shipped default when unset.
    /// </summary>
    private static readonly string? Engine = Environment.GetEnvironmentVariable("SQNXT_LOAD_ENGINE") is { Length: > 0 } engine ? engine : null;

    /// <summary>
    /// `SQNXT_LOAD_WORKER_CPUS` (a taskset list such as "0") pins the worker to those cores, with as many libtorch
    /// threads, so that scripts/load-test.sh can keep the broker and the callers off them.
    /// </summary>
    private static readonly string? WorkerCpus = Environment.GetEnvironmentVariable("SQNXT_LOAD_WORKER_CPUS") is { Length: > 0 } cpus ? cpus : null;

    /// <summary>The worker's Worker:Classification:MaxBatchSize and ConcurrentPasses, left at their defaults here.</summary>
    private const int MaxBatchSize = 16, ConcurrentPasses = 2;

    /// <summary>The worker's Worker:HeapTrimIntervalUnderLoad, left at its default here.</summary>
    private static readonly TimeSpan HeapTrimIntervalUnderLoad = TimeSpan.FromSeconds(30);

    /// <summary>The bound docs/reliability.md states for a worker serving 1.0-SqNxt-23 at 227×227 in two passes of up to 16 at once.</summary>
    private const long MemoryBoundMegabytes = 2500;
    private JobSystem system = null!;
    private AppProcess worker = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        await system.StartClientAsync();
        var settings = new Dictionary<string, string> { ["Worker__RunJobs"] = "false", ["Worker__TorchThreads"] = "2" };
        if (Engine is not null) settings["Worker__Classification__Engine"] = Engine;
        if (WorkerCpus is not null) settings["Worker__TorchThreads"] = CpuCount(WorkerCpus).ToString(System.Globalization.CultureInfo.InvariantCulture);
        worker = await system.StartWorkerAsync(settings, WorkerCpus is null ? null : ["taskset", "-c", WorkerCpus]);
        await ServingModels.ServeRandomImageNetModelAsync(system, "load", seed: 3);
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    [Fact]
    public async Task Classify_at_increasing_concurrency_loses_nothing_and_keeps_tensors_and_memory_flat()
    {
        int total = int.TryParse(Environment.GetEnvironmentVariable("SQNXT_LOAD_REQUESTS"), out var n) && n > 0 ? n : 480;
        var photos = new[] { "tabby_cat.jpg", "coffee.png", "rocket.jpg", "chelsea.png" }.Select(TestServices.Fixture).ToArray();
        string imageSet = Environment.GetEnvironmentVariable("SQNXT_LOAD_IMAGES") is { Length: > 0 } set ? set : "photos";
        var images = imageSet switch
        {
            "photos" => photos.Select(File.ReadAllBytes).ToArray(),
            "imagenet" => Vision.Evaluation.DataPipelineBenchmark.EncodeJpegs(photos, 500, 375),
            _ => throw new ArgumentException($"SQNXT_LOAD_IMAGES: '{imageSet}' is not photos or imagenet"),
        };
        var client = system.Bus.CreateRequestClient<ClassifyImage>(RequestTimeout.After(s: 120));

        // Warm up with the same mix of concurrency the test then runs at volume, 64 requests each: the model loads and
        // batches of every size reach the working memory later ones reuse. Serving many more requests after that must
        // not raise the peak resident memory (it used to climb without bound: glibc kept what forward passes freed).
        // Bursts at twice what the concurrent passes hold end it, so that full batches in every pass at once (which
        // need the most memory) are part of the warm-up and not first met hundreds of requests into the test. They go
        // on for as many requests as a load level, or until the worker's heap-trim interval under load has passed:
        // under continuous load the heap is trimmed only that often, and the top of that saw-tooth is what later
        // levels are compared with.
        int perLevel = Math.Max(Concurrency.Max(), total / Concurrency.Length);
        var warmUp = new List<LoadLevel>();
        foreach (var concurrency in Concurrency) warmUp.Add(await RunLevelAsync(client, images, concurrency, Math.Max(64, 2 * concurrency)));
        const int burst = 2 * MaxBatchSize * ConcurrentPasses;
        var bursting = Stopwatch.StartNew();
        int burstRequests = 0;
        do
        {
            var level = await RunLevelAsync(client, images, burst, 2 * burst);
            warmUp.Add(level);
            burstRequests += level.Requests;
        } while (burstRequests < perLevel && bursting.Elapsed < HeapTrimIntervalUnderLoad + TimeSpan.FromSeconds(5));
        Assert.All(warmUp, level => Assert.Equal(0, level.Errors));
        long tensorsBefore = await GaugeAsync("sqnxt_torch_live_tensors"), sessionsBefore = await GaugeAsync("sqnxt_onnxruntime_sessions");

        var levels = new List<LoadLevel>();
        foreach (var concurrency in Concurrency)
        {
            var level = await RunLevelAsync(client, images, concurrency, perLevel);
            output.WriteLine(JsonSerializer.Serialize(level));
            levels.Add(level);
            Assert.Equal(perLevel, level.Requests);
            Assert.Equal(0, level.Errors);
            Assert.True(level.MeanBatchSize >= 1, $"no forward-pass batch sizes on /metrics for concurrency {concurrency}");
        }

        long tensorsAfter = await GaugeAsync("sqnxt_torch_live_tensors"), sessionsAfter = await GaugeAsync("sqnxt_onnxruntime_sessions");
        long warmUpPeak = warmUp.Max(l => l.PeakResidentMegabytes), loadPeak = levels.Max(l => l.PeakResidentMegabytes);
        var report = new { images = imageSet, engine = Engine ?? "default", workerCpus = WorkerCpus ?? "all", persistentRequests = PersistentRequests, total = perLevel * Concurrency.Length,
            tensorsBefore, tensorsAfter, onnxRuntimeSessionsBefore = sessionsBefore, onnxRuntimeSessionsAfter = sessionsAfter, warmUpPeakResidentMegabytes = warmUpPeak, peakResidentMegabytes = loadPeak, levels };
        var folder = Directory.CreateDirectory(Path.Combine(TestServices.RepositoryRoot, "artifacts", "performance")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, $"classify-load-{imageSet}{(Engine is null ? "" : "-" + Engine)}{(WorkerCpus is null ? "" : "-pinned")}.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        output.WriteLine($"live tensors {tensorsBefore} → {tensorsAfter}, ONNX Runtime sessions {sessionsBefore} → {sessionsAfter}, peak resident {warmUpPeak} MB in the warm-up, {loadPeak} MB under load");
        Assert.Equal(tensorsBefore, tensorsAfter);
        Assert.Equal(sessionsBefore, sessionsAfter);
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
        Assert.True(loadPeak <= warmUpPeak * 5 / 4,
            $"peak resident memory grew from {warmUpPeak} MB in the warm-up to {loadPeak} MB over {report.total} requests");
        Assert.True(loadPeak <= MemoryBoundMegabytes, $"peak resident memory {loadPeak} MB is over the stated {MemoryBoundMegabytes} MB");
    }

    /// <summary>
    /// One concurrency level. Where the time went: <c>ForwardBusy</c> is the fraction of the wall time the inference
    /// thread spent in forward passes and <c>ForwardImagesPerSecond</c> their rate while running (against the raw
    /// batched inference of the baseline); <c>WorkerCores</c> is the worker's CPU time per second and
    /// <c>MachineIdle</c> the fraction of the machine's CPU time nobody used (the broker and the callers run here too).
    /// </summary>
    private sealed record LoadLevel(int Concurrency, int Requests, int Errors, double Seconds, double RequestsPerSecond, double P50Milliseconds,
        double P99Milliseconds, long PeakResidentMegabytes, long ResidentMegabytesAtEnd, double MeanBatchSize,
        IReadOnlyDictionary<string, long> BatchSizeDistribution, double ForwardBusy, double ForwardImagesPerSecond,
        double MeanDecodeMilliseconds, double WorkerCores, double MachineIdle);

    /// <summary>Sends <paramref name="count"/> requests from <paramref name="concurrency"/> callers, each waiting for its answer.</summary>
    private async Task<LoadLevel> RunLevelAsync(IRequestClient<ClassifyImage> client, byte[][] images, int concurrency, int count)
    {
        var latencies = new List<double>();
        int errors = 0, next = 0;
        // Resident memory is sampled throughout: glibc's heap is trimmed every few seconds, so one reading at the end
        // could fall just after a trim or just before one.
        long peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, worker.ResidentMegabytes);
                await Task.Delay(100);
            }
        });
        var batchesBefore = await HistogramAsync("sqnxt_classify_batch_size");
        var forwardBefore = await HistogramAsync("sqnxt_classify_inference_time");
        var decodeBefore = await HistogramAsync("sqnxt_classify_decode_time");
        var cpuBefore = CpuSample.Take(worker.Id);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                var request = new ClassifyImage(NewId.NextGuid(), images[Random.Shared.Next(images.Length)]);
                var started = Stopwatch.GetTimestamp();
                var response = await client.GetResponse<ImageClassified, ClassificationRejected>(request, x => x.UseExecute(c => c.Durable = PersistentRequests));
                var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                bool ok = response.Is(out Response<ImageClassified>? answer) && answer!.Message.RequestId == request.RequestId;
                lock (latencies)
                {
                    latencies.Add(milliseconds);
                    if (!ok) errors++;
                }
            }
        }));
        clock.Stop();
        var cpu = CpuSample.Take(worker.Id).Since(cpuBefore);
        await sampling.CancelAsync();
        await sampler;
        latencies.Sort();
        var batches = (await HistogramAsync("sqnxt_classify_batch_size")).Since(batchesBefore);
        var forward = (await HistogramAsync("sqnxt_classify_inference_time")).Since(forwardBefore);
        var decode = (await HistogramAsync("sqnxt_classify_decode_time")).Since(decodeBefore);
        double seconds = clock.Elapsed.TotalSeconds, forwardSeconds = forward.Sum / 1000;
        return new LoadLevel(concurrency, latencies.Count, errors, Math.Round(seconds, 2),
            Math.Round(latencies.Count / seconds, 1), Math.Round(Percentile(latencies, 0.50), 1),
            Math.Round(Percentile(latencies, 0.99), 1), peak, worker.ResidentMegabytes,
            batches.Count == 0 ? 0 : Math.Round(batches.Sum / batches.Count, 2), batches.Distribution(),
            Math.Round(forwardSeconds / seconds, 3), forwardSeconds == 0 ? 0 : Math.Round(batches.Sum / forwardSeconds, 1),
            decode.Count == 0 ? 0 : Math.Round(decode.Sum / decode.Count, 2), Math.Round(cpu.ProcessSeconds / seconds, 2),
            cpu.MachineSeconds == 0 ? 0 : Math.Round(cpu.IdleSeconds / cpu.MachineSeconds, 3));
    }

    /// <summary>CPU time so far from /proc: one process's (user + system) and the whole machine's, used and idle.</summary>
    private sealed record CpuSample(double ProcessSeconds, double MachineSeconds, double IdleSeconds)
    {
        private const double TicksPerSecond = 100; // USER_HZ, 100 on every Linux this runs on

        public static CpuSample Take(int processId)
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            double process = (double.Parse(fields[11]) + double.Parse(fields[12])) / TicksPerSecond; // utime, stime
            var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(double.Parse).ToArray();
            return new CpuSample(process, machine.Take(8).Sum() / TicksPerSecond, (machine[3] + machine[4]) / TicksPerSecond); // idle + iowait
        }

        public CpuSample Since(CpuSample earlier) =>
            new(ProcessSeconds - earlier.ProcessSeconds, MachineSeconds - earlier.MachineSeconds, IdleSeconds - earlier.IdleSeconds);
    }

    /// <summary>One of the worker's histograms as /metrics shows it (cumulative since it started).</summary>
    private sealed record Histogram(double Sum, long Count, IReadOnlyList<(double UpperBound, long Cumulative)> Buckets)
    {
        public Histogram Since(Histogram earlier) => new(Sum - earlier.Sum, Count - earlier.Count,
            Buckets.Select(b => (b.UpperBound, b.Cumulative - earlier.Buckets.FirstOrDefault(e => e.UpperBound == b.UpperBound).Cumulative)).ToList());

        /// <summary>Forward passes per batch-size range, "1-5" style, empty ranges left out.</summary>
        public IReadOnlyDictionary<string, long> Distribution()
        {
            var ranges = new Dictionary<string, long>();
            double lower = 0;
            long below = 0;
            foreach (var (upper, cumulative) in Buckets.OrderBy(b => b.UpperBound))
            {
                if (cumulative - below > 0)
                    ranges[double.IsPositiveInfinity(upper) ? $">{lower}" : $"{Math.Floor(lower) + 1}-{upper}"] = cumulative - below;
                (lower, below) = (upper, cumulative);
            }
            return ranges;
        }
    }

    /// <summary>The histogram whose Prometheus name starts with <paramref name="name"/> (unit suffixes vary).</summary>
    private async Task<Histogram> HistogramAsync(string name)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(worker.BaseAddress, "/metrics"));
        static double Value(string s) => s == "+Inf" ? double.PositiveInfinity : double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        var buckets = Regex.Matches(text, $@"^{name}\S*_bucket\{{[^}}]*le=""([^""]+)""[^}}]*\}}\s+(\S+)", RegexOptions.Multiline)
            .Select(m => (Value(m.Groups[1].Value), (long)Value(m.Groups[2].Value))).ToList();
        var sum = Regex.Match(text, $@"^{name}\S*_sum(?:\{{[^}}]*\}})?\s+(\S+)", RegexOptions.Multiline);
        var count = Regex.Match(text, $@"^{name}\S*_count(?:\{{[^}}]*\}})?\s+(\S+)", RegexOptions.Multiline);
        return new Histogram(sum.Success ? Value(sum.Groups[1].Value) : 0, count.Success ? (long)Value(count.Groups[1].Value) : 0, buckets);
    }

    /// <summary>A gauge of the worker's as /metrics shows it (the Prometheus name, unit suffixes aside).</summary>
    private async Task<long> GaugeAsync(string name)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(worker.BaseAddress, "/metrics"));
        var match = Regex.Match(text, $@"^{name}\S*\s+(\d+)", RegexOptions.Multiline);
        Assert.True(match.Success, $"no {name} on /metrics");
        return long.Parse(match.Groups[1].Value);
    }

    /// <summary>The cores a taskset list such as "0", "0,2" or "0-3" names.</summary>
    private static int CpuCount(string list) => list.Split(',').Sum(part => part.Split('-') is [var first, var last] ? int.Parse(last) - int.Parse(first) + 1 : 1);

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
