using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Testing;
using Xunit.Abstractions;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// A bounded load test of the classify queue on loopback: a fixed number of requests at each of several concurrency
/// levels, measuring throughput and p50/p99 latency, with no request lost and the worker's live tensor count and resident memory flat after a warm-up.
/// `SQNXT_LOAD_REQUESTS` scales the total (scripts/load-test.sh runs 10,000); `SQNXT_LOAD_IMAGES` picks what is sent:
/// `photos` (default: the four test photos as they are, up to 1728×1152, two of them PNG) or `imagenet` (JPEGs of
/// ImageNet's typical 500×375 made from them). The figures go to artifacts/performance/classify-load-{images}.json
/// and docs/performance.md.
/// </summary>
public sealed class ClassifyLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int[] Concurrency = [1, 4, 16, 32, 64];

    /// <summary>The worker's Worker:Classification:MaxBatchSize, left at its default here.</summary>
    private const int MaxBatchSize = 32;

    /// <summary>The bound docs/reliability.md states for a worker serving 1.0-SqNxt-23 at 227×227 in batches of up to 32.</summary>
    private const long MemoryBoundMegabytes = 2500;
    private JobSystem system = null!;
    private AppProcess worker = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        await system.StartClientAsync();
        worker = await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__RunJobs"] = "false", ["Worker__TorchThreads"] = "2" });
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
        // A burst at twice the largest batch ends it, so that full batches (whose forward pass needs the most memory)
        // are part of the warm-up and not first met hundreds of requests into the test.
        var warmUp = new List<LoadLevel>();
        foreach (var concurrency in Concurrency.Append(2 * MaxBatchSize)) warmUp.Add(await RunLevelAsync(client, images, concurrency, Math.Max(64, 2 * concurrency)));
        Assert.All(warmUp, level => Assert.Equal(0, level.Errors));
        long tensorsBefore = await LiveTensorsAsync();

        var levels = new List<LoadLevel>();
        int perLevel = Math.Max(Concurrency.Max(), total / Concurrency.Length);
        foreach (var concurrency in Concurrency)
        {
            var level = await RunLevelAsync(client, images, concurrency, perLevel);
            output.WriteLine(JsonSerializer.Serialize(level));
            levels.Add(level);
            Assert.Equal(perLevel, level.Requests);
            Assert.Equal(0, level.Errors);
            Assert.True(level.MeanBatchSize >= 1, $"no forward-pass batch sizes on /metrics for concurrency {concurrency}");
        }

        long tensorsAfter = await LiveTensorsAsync();
        long warmUpPeak = warmUp.Max(l => l.PeakResidentMegabytes), loadPeak = levels.Max(l => l.PeakResidentMegabytes);
        var report = new { images = imageSet, total = perLevel * Concurrency.Length, tensorsBefore, tensorsAfter, warmUpPeakResidentMegabytes = warmUpPeak, peakResidentMegabytes = loadPeak, levels };
        var folder = Directory.CreateDirectory(Path.Combine(TestServices.RepositoryRoot, "artifacts", "performance")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, $"classify-load-{imageSet}.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        output.WriteLine($"live tensors {tensorsBefore} → {tensorsAfter}, peak resident {warmUpPeak} MB in the warm-up, {loadPeak} MB under load");
        Assert.Equal(tensorsBefore, tensorsAfter);
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
        Assert.True(loadPeak <= warmUpPeak * 5 / 4,
            $"peak resident memory grew from {warmUpPeak} MB in the warm-up to {loadPeak} MB over {report.total} requests");
        Assert.True(loadPeak <= MemoryBoundMegabytes, $"peak resident memory {loadPeak} MB is over the stated {MemoryBoundMegabytes} MB");
    }

    private sealed record LoadLevel(int Concurrency, int Requests, int Errors, double Seconds, double RequestsPerSecond, double P50Milliseconds,
        double P99Milliseconds, long PeakResidentMegabytes, long ResidentMegabytesAtEnd, double MeanBatchSize,
        IReadOnlyDictionary<string, long> BatchSizeDistribution);

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
        var batchesBefore = await BatchSizesAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                var request = new ClassifyImage(NewId.NextGuid(), images[Random.Shared.Next(images.Length)]);
                var started = Stopwatch.GetTimestamp();
                var response = await client.GetResponse<ImageClassified, ClassificationRejected>(request);
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
        await sampling.CancelAsync();
        await sampler;
        latencies.Sort();
        var batches = (await BatchSizesAsync()).Since(batchesBefore);
        return new LoadLevel(concurrency, latencies.Count, errors, Math.Round(clock.Elapsed.TotalSeconds, 2),
            Math.Round(latencies.Count / clock.Elapsed.TotalSeconds, 1), Math.Round(Percentile(latencies, 0.50), 1),
            Math.Round(Percentile(latencies, 0.99), 1), peak, worker.ResidentMegabytes,
            batches.Count == 0 ? 0 : Math.Round(batches.Sum / batches.Count, 2), batches.Distribution());
    }

    /// <summary>The worker's forward-pass batch-size histogram as /metrics shows it (cumulative since it started).</summary>
    private sealed record BatchSizes(double Sum, long Count, IReadOnlyList<(double UpperBound, long Cumulative)> Buckets)
    {
        public BatchSizes Since(BatchSizes earlier) => new(Sum - earlier.Sum, Count - earlier.Count,
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

    private async Task<BatchSizes> BatchSizesAsync()
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(worker.BaseAddress, "/metrics"));
        static double Value(string s) => s == "+Inf" ? double.PositiveInfinity : double.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        var buckets = Regex.Matches(text, @"^sqnxt_classify_batch_size\S*_bucket\{[^}]*le=""([^""]+)""[^}]*\}\s+(\S+)", RegexOptions.Multiline)
            .Select(m => (Value(m.Groups[1].Value), (long)Value(m.Groups[2].Value))).ToList();
        var sum = Regex.Match(text, @"^sqnxt_classify_batch_size\S*_sum(?:\{[^}]*\})?\s+(\S+)", RegexOptions.Multiline);
        var count = Regex.Match(text, @"^sqnxt_classify_batch_size\S*_count(?:\{[^}]*\})?\s+(\S+)", RegexOptions.Multiline);
        return new BatchSizes(sum.Success ? Value(sum.Groups[1].Value) : 0, count.Success ? (long)Value(count.Groups[1].Value) : 0, buckets);
    }

    private async Task<long> LiveTensorsAsync()
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(worker.BaseAddress, "/metrics"));
        var match = Regex.Match(text, @"^sqnxt_torch_live_tensors\S*\s+(\d+)", RegexOptions.Multiline);
        Assert.True(match.Success, "no sqnxt_torch_live_tensors on /metrics");
        return long.Parse(match.Groups[1].Value);
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
