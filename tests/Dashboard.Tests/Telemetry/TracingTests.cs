using System.Net.Http.Headers;
using SqueezeNext.Dashboard.Tests.Api;
using SqueezeNext.WorkerHost.Tests;

namespace SqueezeNext.Dashboard.Tests.Telemetry;

/// <summary>
/// Both hosts export their spans over OTLP to a receiver in this test: a training run's attempt with its epoch,
/// evaluation and checkpoint spans, and a classify request through the API as one trace across the dashboard, the
/// broker and the worker.
/// </summary>
[Trait("Level", "processes")]
public sealed class TracingTests : IAsyncLifetime
{
    private OtlpReceiver receiver = null!;
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private ApiAccounts accounts = null!;
    private bool hasFashionMnist;

    public async Task InitializeAsync()
    {
        receiver = await OtlpReceiver.StartAsync();
        system = await JobSystem.CreateAsync();
        hasFashionMnist = system.AddFashionMnist();
        await system.StartWorkerAsync(receiver.ExporterSettings);
        dashboard = await system.StartDashboardAsync("tracing-test-password", receiver.ExporterSettings);
        accounts = new ApiAccounts(system, dashboard.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await system.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_training_run_and_a_classify_request_through_the_api_arrive_as_traces_with_their_own_spans()
    {
        Skip.IfNot(hasFashionMnist, "Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
        using var operatorClient = accounts.Client(await accounts.TokenAsync("otis", AccountRole.Operator));
        using var admin = accounts.Client(await accounts.TokenAsync("adele", AccountRole.Admin));
        await system.WaitForDatasetAsync(operatorClient);

        var runId = Guid.NewGuid();
        await system.TrainToCompletionAsync(operatorClient, runId, new
        {
            runId, configuration = "1.0-SqNxt-23-28px", dataset = "fashion-mnist",
            settings = new { maxSteps = 40, batchSize = 32, preciseBatchNormBatches = 1, evalEverySteps = 20, evalMaxImages = 100, checkpointEverySteps = 20, seed = 3 },
        });

        // The attempt is the root of the run's trace; the engine's spans nest in it, none per step.
        var spans = await receiver.WaitForAsync(s => s.Any(x => x.Name == "run.training" && Equals(x.Attributes.GetValueOrDefault("sqnxt.run_id"), runId.ToString())),
            TimeSpan.FromSeconds(30), "the training run's span");
        var attempt = spans.Single(x => x.Name == "run.training");
        Assert.Equal("sqnxt-worker", attempt.Service);
        Assert.Null(attempt.ParentSpanId);
        var runSpans = spans.Where(x => x.TraceId == attempt.TraceId).ToList();
        Assert.Single(runSpans, x => x.Name == "training.epoch");
        Assert.Equal(40L, runSpans.Single(x => x.Name == "training.epoch").Attributes["sqnxt.steps"]);
        Assert.Equal(2, runSpans.Count(x => x.Name == "training.evaluation"));
        Assert.Equal([20L, 40L], runSpans.Where(x => x.Name == "training.checkpoint").Select(x => (long)x.Attributes["sqnxt.step"]!).Order());
        AssertParentsPresent(runSpans);
        Assert.All(runSpans, x => Assert.True(x.Duration > TimeSpan.Zero, $"{x} has no duration"));

        await ApiSteps.ServeAsync(admin, "traced", runId);

        var first = await AssertClassifyTraceAsync(operatorClient, "traced", "chelsea.png", "image/png");
        Assert.Single(first, x => x.Name == "classify.model_load");
        // The same through an ImageNet-sized model (224 px, 1000 classes), twice: the first request loads it, the second
        // finds it cached. docs/operations.md shows both traces.
        await ServingModels.ServeRandomImageNetModelAsync(system, "imagenet", seed: 3);
        var cold = await AssertClassifyTraceAsync(operatorClient, "imagenet", "tabby_cat.jpg", "image/jpeg");
        var warm = await AssertClassifyTraceAsync(operatorClient, "imagenet", "tabby_cat.jpg", "image/jpeg", except: cold[0].TraceId);
        Assert.Single(cold, x => x.Name == "classify.model_load");
        Assert.DoesNotContain(warm, x => x.Name == "classify.model_load");
        if (Environment.GetEnvironmentVariable("SQNXT_TRACE_DUMP") is { Length: > 0 } dump) await File.WriteAllTextAsync(dump, Tree(cold) + "\n" + Tree(warm));
    }

    /// <summary>
    /// Classifies a photo through the API and checks its trace: one trace from the dashboard's request through the
    /// broker to the worker's spans for each stage, every parent present. Returns the trace.
    /// </summary>
    private async Task<IReadOnlyList<ReceivedSpan>> AssertClassifyTraceAsync(HttpClient client, string model, string fixture, string mediaType, string? except = null)
    {
        using var form = new MultipartFormDataContent();
        var photo = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture(fixture)));
        photo.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        form.Add(photo, "image", fixture);
        using (var classified = await client.PostAsync($"/api/v1/classify?model={model}", form))
            Assert.True(classified.IsSuccessStatusCode, await classified.Content.ReadAsStringAsync());

        string[] workerSpans = ["classify.queue_wait", "classify.decode", "classify.batch_wait", "classify.forward"];
        // The request's trace is the one whose forward pass ran this model (the query string is redacted in spans).
        bool Complete(IReadOnlyList<ReceivedSpan> spans, ReceivedSpan request) => request.TraceId != except &&
            spans.Any(x => x.TraceId == request.TraceId && x.Name == "classify.forward" && Equals(x.Attributes.GetValueOrDefault("sqnxt.model"), model)) &&
            workerSpans.All(name => spans.Any(x => x.TraceId == request.TraceId && x.Name == name));
        var spans = await receiver.WaitForAsync(s => s.Where(IsClassifyRequest).Any(request => Complete(s, request)),
            TimeSpan.FromSeconds(30), $"the spans of the classify request to {model} from both hosts");
        var root = spans.Where(IsClassifyRequest).Single(request => Complete(spans, request));
        var trace = spans.Where(x => x.TraceId == root.TraceId).ToList();
        Assert.Null(root.ParentSpanId);
        AssertParentsPresent(trace);
        // Across the broker: the worker's receive span is the child of the dashboard's send span.
        var dashboardSpans = trace.Where(x => x.Service == "sqnxt-dashboard").ToDictionary(x => x.SpanId);
        var received = trace.Single(x => x.Service == "sqnxt-worker" && x.Kind == ConsumerKind && dashboardSpans.ContainsKey(x.ParentSpanId!));
        Assert.Equal(ProducerKind, dashboardSpans[received.ParentSpanId!].Kind);
        Assert.All(workerSpans, name => Assert.Equal("sqnxt-worker", trace.Single(x => x.Name == name).Service));
        var forward = trace.Single(x => x.Name == "classify.forward");
        Assert.Equal(1L, forward.Attributes["sqnxt.batch_size"]);
        Assert.Equal(model, forward.Attributes["sqnxt.model"]);
        return trace;
    }

    private const int ProducerKind = 4;
    private const int ConsumerKind = 5;

    private static bool IsClassifyRequest(ReceivedSpan span) =>
        span.Service == "sqnxt-dashboard" && Equals(span.Attributes.GetValueOrDefault("url.path"), "/api/v1/classify");

    /// <summary>The spans of a trace as an indented tree, children in order of their start, with offsets and durations.</summary>
    private static string Tree(IReadOnlyList<ReceivedSpan> trace)
    {
        var root = trace.Single(x => x.ParentSpanId is null);
        var lines = new List<string>();
        void Add(ReceivedSpan span, int depth)
        {
            lines.Add($"{(span.Start - root.Start).TotalMilliseconds,8:F1} ms {span.Duration.TotalMilliseconds,8:F1} ms  {new string(' ', depth * 2)}{span.Name}  [{span.Service}]");
            foreach (var child in trace.Where(x => x.ParentSpanId == span.SpanId).OrderBy(x => x.Start)) Add(child, depth + 1);
        }
        Add(root, 0);
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>Every span but the root names a parent that is in the same trace.</summary>
    private static void AssertParentsPresent(IReadOnlyList<ReceivedSpan> trace)
    {
        var ids = trace.Select(x => x.SpanId).ToHashSet();
        Assert.Single(trace, x => x.ParentSpanId is null);
        Assert.All(trace.Where(x => x.ParentSpanId is not null), x => Assert.True(ids.Contains(x.ParentSpanId!), $"{x}: its parent was not received"));
    }
}
