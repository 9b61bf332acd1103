using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Testing;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;
using Xunit.Abstractions;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// A bounded load test of the classify queue on loopback: a fixed number of requests at each of several concurrency
/// levels, measuring throughput and p50/p99 latency, with no request lost and the worker's live tensor count flat.
/// `SQNXT_LOAD_REQUESTS` scales the total (scripts/load-test.sh runs 10,000); the figures go to
/// artifacts/performance/classify-load.json and docs/performance.md.
/// </summary>
public sealed class ClassifyLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int[] Concurrency = [1, 4, 16, 32];
    private JobSystem system = null!;
    private AppProcess worker = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        await system.StartClientAsync();
        worker = await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__RunJobs"] = "false", ["Worker__TorchThreads"] = "2" });
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        var path = Path.Combine(system.ArtifactRoot, "models", "load", "v1");
        using (var network = new SqueezeNextNetwork(configuration.Architecture, seed: 3))
            ModelArtifact.Save(path, network, configuration);
        await using var db = system.Db();
        db.ModelVersions.Add(new ModelVersion { Name = "load", Version = 1, Path = path, ConfigurationName = configuration.Name, IsServing = true, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    [Fact]
    public async Task Classify_at_increasing_concurrency_loses_nothing_and_keeps_the_live_tensor_count_flat()
    {
        int total = int.TryParse(Environment.GetEnvironmentVariable("SQNXT_LOAD_REQUESTS"), out var n) && n > 0 ? n : 480;
        var images = new[] { "tabby_cat.jpg", "coffee.png", "rocket.jpg", "chelsea.png" }.Select(f => File.ReadAllBytes(TestServices.Fixture(f))).ToArray();
        var client = system.Bus.CreateRequestClient<ClassifyImage>(RequestTimeout.After(s: 120));

        // Warm up: the model loads and the first batches allocate what later ones reuse.
        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => client.GetResponse<ImageClassified, ClassificationRejected>(new ClassifyImage(NewId.NextGuid(), images[i % 4]))));
        long tensorsBefore = await LiveTensorsAsync();

        var levels = new List<object>();
        int perLevel = Math.Max(Concurrency.Max(), total / Concurrency.Length);
        foreach (var concurrency in Concurrency)
        {
            var latencies = new List<double>();
            int errors = 0, next = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= perLevel)
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
            latencies.Sort();
            var level = new
            {
                concurrency,
                requests = latencies.Count,
                errors,
                seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                requestsPerSecond = Math.Round(latencies.Count / clock.Elapsed.TotalSeconds, 1),
                p50Milliseconds = Math.Round(Percentile(latencies, 0.50), 1),
                p99Milliseconds = Math.Round(Percentile(latencies, 0.99), 1),
                residentMegabytes = worker.ResidentMegabytes,
            };
            output.WriteLine(JsonSerializer.Serialize(level));
            levels.Add(level);
            Assert.Equal(perLevel, latencies.Count);
            Assert.Equal(0, errors);
        }

        long tensorsAfter = await LiveTensorsAsync();
        var report = new { total = perLevel * Concurrency.Length, tensorsBefore, tensorsAfter, residentMegabytes = worker.ResidentMegabytes, levels };
        var folder = Directory.CreateDirectory(Path.Combine(TestServices.RepositoryRoot, "artifacts", "performance")).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "classify-load.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        output.WriteLine($"live tensors {tensorsBefore} → {tensorsAfter}, resident {report.residentMegabytes} MB");
        Assert.Equal(tensorsBefore, tensorsAfter);
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
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
