using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using SqueezeNext.Dashboard.Tests.Api;

namespace SqueezeNext.Dashboard.Tests.Telemetry;

/// <summary>
/// After a training run and a few classify requests through the API, each host's /metrics shows the product's own
/// metrics with the values the work implies, beside the runtime's and ASP.NET Core's.
/// </summary>
[Trait("Level", "processes")]
public sealed partial class MetricsTests : IAsyncLifetime
{
    private const string Configuration = "1.0-SqNxt-23-28px";
    private const int Steps = 20;
    private const int BatchSize = 16;

    private JobSystem system = null!;
    private AppProcess worker = null!;
    private AppProcess dashboard = null!;
    private ApiAccounts accounts = null!;
    private bool hasFashionMnist;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        hasFashionMnist = system.AddFashionMnist();
        worker = await system.StartWorkerAsync();
        dashboard = await system.StartDashboardAsync("metrics-test-password");
        accounts = new ApiAccounts(system, dashboard.BaseAddress);
    }

    public Task DisposeAsync() => system.DisposeAsync().AsTask();

    [SkippableFact]
    public async Task Each_host_lists_the_products_metrics_with_the_values_of_the_work_done()
    {
        Skip.IfNot(hasFashionMnist, "Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
        using var operatorClient = accounts.Client(await accounts.TokenAsync("olga", AccountRole.Operator));
        using var admin = accounts.Client(await accounts.TokenAsync("adam", AccountRole.Admin));
        await system.WaitForDatasetAsync(operatorClient);

        var runId = Guid.NewGuid();
        await system.TrainToCompletionAsync(operatorClient, runId, new
        {
            runId, configuration = Configuration, dataset = "fashion-mnist",
            settings = new { maxSteps = Steps, batchSize = BatchSize, preciseBatchNormBatches = 1, evalEverySteps = Steps, evalMaxImages = 64, checkpointEverySteps = Steps / 2, seed = 5 },
        });
        await ApiSteps.ServeAsync(admin, "measured", runId);
        using (var unknown = await admin.PostAsJsonAsync("/api/v1/models/measured/versions/7/promote", new { }))
            Assert.False(unknown.IsSuccessStatusCode);

        foreach (var photo in new[] { "chelsea.png", "coffee.png" })
            using (var classified = await ClassifyAsync(operatorClient, await File.ReadAllBytesAsync(TestServices.Fixture(photo))))
                Assert.True(classified.IsSuccessStatusCode, await classified.Content.ReadAsStringAsync());
        using (var corrupt = await ClassifyAsync(operatorClient, "\xFF\xD8\xFF not a JPEG after all"u8.ToArray()))
            Assert.False(corrupt.IsSuccessStatusCode);

        var fromWorker = await PrometheusScrape.ReadAsync(worker.BaseAddress);
        string configuration = $"configuration={Configuration}";
        // Training: every step timed, every image counted, a checkpoint mid-run and one at the end, one evaluation.
        Assert.Equal(Steps, fromWorker.Value("sqnxt_training_step_time_seconds_count", configuration));
        var meanStep = fromWorker.Value("sqnxt_training_step_time_seconds_sum", configuration) / Steps;
        Assert.InRange(meanStep, 1e-4, 30);
        Assert.Equal(Steps * BatchSize, fromWorker.Value("sqnxt_training_images_total", configuration));
        Assert.Equal(2, fromWorker.Value("sqnxt_training_checkpoint_time_seconds_count", configuration));
        Assert.InRange(fromWorker.Value("sqnxt_training_checkpoint_time_seconds_sum", configuration), 1e-4, 60);
        Assert.Equal(1, fromWorker.Value("sqnxt_training_evaluation_time_seconds_count", configuration));
        Assert.Equal(1, fromWorker.Value("sqnxt_runs_ended_total", "kind=training", "outcome=completed"));
        Assert.Equal(1, fromWorker.Value("sqnxt_run_queue_time_seconds_count"));
        Assert.Equal(0, fromWorker.Value("sqnxt_runs_active"));
        Assert.Equal(0, fromWorker.Value("sqnxt_training_throughput_per_second"));
        // Classification: two answered in one or two passes, the corrupt image rejected; one model loaded once.
        Assert.Equal(2, fromWorker.Value("sqnxt_classify_requests_total", "outcome=classified"));
        Assert.Equal(1, fromWorker.Value("sqnxt_classify_requests_total", "outcome=rejected"));
        Assert.Equal(3, fromWorker.Value("sqnxt_classify_latency_milliseconds_count"));
        Assert.Equal(2, fromWorker.Value("sqnxt_classify_batch_size_sum"));
        Assert.InRange(fromWorker.Value("sqnxt_classify_batch_size_count"), 1, 2);
        Assert.InRange(fromWorker.Value("sqnxt_classify_inference_time_milliseconds_sum"), 0.01, 60_000);
        Assert.Equal(0, fromWorker.Value("sqnxt_classify_pending"));
        Assert.Equal(1, fromWorker.Value("sqnxt_model_cache_models"));
        Assert.Equal(1, fromWorker.Value("sqnxt_model_cache_lookups_total", "result=load"));
        Assert.Equal(2, fromWorker.Value("sqnxt_model_cache_lookups_total", "result=hit"));
        Assert.Equal(1, fromWorker.Value("sqnxt_model_cache_load_time_milliseconds_count"));
        Assert.Equal(0, fromWorker.Value("sqnxt_runs_requeued_stale_total"));
        AssertRuntimeMetrics(fromWorker);

        // The dashboard reads the runs and the broker every few seconds.
        PrometheusScrape fromDashboard = null!;
        await system.WaitUntilAsync(async () => (fromDashboard = await PrometheusScrape.ReadAsync(dashboard.BaseAddress))
            .Series("sqnxt_runs", "status=completed", "kind=training").Any(s => s.Value == 1), "the dashboard's run gauges");
        Assert.Equal(0, fromDashboard.Value("sqnxt_runs", "status=queued"));
        Assert.Equal(0, fromDashboard.Value("sqnxt_runs", "status=running"));
        Assert.Equal(0, fromDashboard.Value("sqnxt_runs", "status=failed"));
        Assert.Equal(0, fromDashboard.Value("sqnxt_runs_oldest_queued_age_seconds"));
        Assert.Equal(0, fromDashboard.Value("sqnxt_runs_stalest_heartbeat_age_seconds"));
        Assert.Equal(0, fromDashboard.Value("sqnxt_broker_queue_messages", "queue=classify-image"));
        Assert.Equal(0, fromDashboard.Value("sqnxt_broker_queue_messages", "queue=submit-training_error"));
        Assert.Equal(1, fromDashboard.Value("sqnxt_broker_queue_consumers", "queue=classify-image"));
        Assert.Equal(1, fromDashboard.Value("sqnxt_commands_total", "command=SubmitTraining", "outcome=answered"));
        Assert.Equal(1, fromDashboard.Value("sqnxt_commands_total", "command=PromoteModel", "outcome=answered"));
        Assert.Equal(1, fromDashboard.Value("sqnxt_commands_total", "command=PromoteModel", "outcome=rejected"));
        Assert.Equal(2, fromDashboard.Value("sqnxt_classify_request_time_milliseconds_count", "outcome=answered"));
        Assert.Equal(1, fromDashboard.Value("sqnxt_classify_request_time_milliseconds_count", "outcome=rejected"));
        Assert.True(fromDashboard.Value("http_server_request_duration_seconds_count", "http_route=/api/v1/classify") >= 3);
        AssertRuntimeMetrics(fromDashboard);
        // Every series the provisioned Grafana dashboard and the alert rules query is one the hosts export.
        var exported = fromWorker.Samples.Concat(fromDashboard.Samples).Select(x => x.Name).ToHashSet();
        foreach (var file in new[] { "docs/observability/grafana/sqnxt.json", "docs/observability/alerts.yml" })
        {
            var queried = QueriedMetric().Matches(await File.ReadAllTextAsync(Path.Combine(TestServices.RepositoryRoot, file))).Select(m => m.Value).ToHashSet();
            Assert.True(queried.Count > 5, $"{file}: queries {queried.Count} of the hosts' metrics");
            Assert.True(queried.IsSubsetOf(exported), $"{file} queries what no host exports: {string.Join(", ", queried.Except(exported))}");
        }
        // For docs/operations.md: both scrapes as they are.
        if (Environment.GetEnvironmentVariable("SQNXT_METRICS_DUMP") is { Length: > 0 } dump)
        {
            await File.WriteAllTextAsync(Path.Combine(dump, "worker.prom"), fromWorker.Text);
            await File.WriteAllTextAsync(Path.Combine(dump, "dashboard.prom"), fromDashboard.Text);
        }
    }

    [GeneratedRegex(@"\b(sqnxt|dotnet|http_server)_[a-z0-9_]+")]
    private static partial Regex QueriedMetric();

    private static Task<HttpResponseMessage> ClassifyAsync(HttpClient client, byte[] image)
    {
        var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(content, "image", "photo.jpg");
        return client.PostAsync("/api/v1/classify?model=measured", form);
    }

    /// <summary>The .NET runtime's own meters: collections and the heap.</summary>
    private static void AssertRuntimeMetrics(PrometheusScrape scrape)
    {
        Assert.True(scrape.Samples.Any(s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal)), "no dotnet_gc_ metrics:\n" + scrape.Text);
        Assert.True(scrape.Samples.Any(s => s.Name.StartsWith("dotnet_process_memory_working_set", StringComparison.Ordinal) ||
                                            s.Name.StartsWith("process_memory", StringComparison.Ordinal)), "no working-set metric:\n" + scrape.Text);
    }
}
