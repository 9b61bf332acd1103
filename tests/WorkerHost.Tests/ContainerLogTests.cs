using System.Text.Json;
using System.Text.RegularExpressions;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// With the logging settings of the worker's image (WorkerHost/Dockerfile), every log line is a JSON object, and a
/// training run's lines and a classify request's lines carry their scopes: RunId or RequestId, and the TraceId and
/// SpanId of the span they were written in.
/// </summary>
[Trait("Level", "processes")]
public sealed partial class ContainerLogTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private AppProcess worker = null!;
    private bool hasFashionMnist;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        hasFashionMnist = system.AddFashionMnist();
        await system.StartClientAsync();
        worker = await system.StartWorkerAsync(ImageLoggingSettings());
    }

    public Task DisposeAsync() => system.DisposeAsync().AsTask();

    [SkippableFact]
    public async Task Log_lines_are_json_and_carry_the_run_or_request_and_the_trace_they_belong_to()
    {
        Skip.IfNot(hasFashionMnist, "Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
        // No model serves yet, so the request is rejected, and the rejection is logged inside its consume span.
        var request = new ClassifyImage(NewId.NextGuid(), File.ReadAllBytes(TestServices.Fixture("tabby_cat.jpg")));
        var response = await system.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(request);
        Assert.True(response.Is(out Response<ClassificationRejected>? _), "the request was answered without a model");

        var runId = NewId.NextGuid();
        await system.Bus.Publish(new SubmitTraining(runId, "1.0-SqNxt-23-28px", "fashion-mnist", Settings: new TrainingSettings { MaxSteps = 4, BatchSize = 16, PreciseBatchNormBatches = 1, EvalEverySteps = 4, EvalMaxImages = 32, Seed = 2 }));
        await system.WaitForEventAsync<RunCompleted>(e => e.RunId == runId, TimeSpan.FromMinutes(3), "the run to complete");
        await worker.WaitForOutputAsync("completed in", TimeSpan.FromSeconds(30));

        var lines = File.ReadAllLines(worker.LogPath).Where(l => l.Length > 0).ToList();
        var entries = lines.Select(Parse).ToList();
        var notJson = lines.Where((_, i) => entries[i] is null).ToList();
        Assert.True(notJson.Count == 0, "lines that are not JSON:\n" + string.Join("\n", notJson.Take(10)));
        Assert.All(entries, e => Assert.True(e!.Value.TryGetProperty("Timestamp", out _) && e.Value.TryGetProperty("LogLevel", out _), $"{e}: no timestamp or level"));

        var evaluated = entries.Select(e => e!.Value).Single(e => Message(e).StartsWith($"Run {runId} Evaluated", StringComparison.Ordinal));
        Assert.Equal(runId.ToString(), Scope(evaluated, "RunId"));
        Assert.Matches("^[0-9a-f]{32}$", Scope(evaluated, "TraceId"));
        Assert.Matches("^[0-9a-f]{16}$", Scope(evaluated, "SpanId"));

        var rejected = entries.Select(e => e!.Value).Single(e => Message(e).StartsWith($"Rejected classify request {request.RequestId}", StringComparison.Ordinal));
        Assert.Equal(request.RequestId.ToString(), Scope(rejected, "RequestId"));
        Assert.Matches("^[0-9a-f]{32}$", Scope(rejected, "TraceId"));
        Assert.NotEqual(Scope(evaluated, "TraceId"), Scope(rejected, "TraceId"));
    }

    /// <summary>The Logging__ variables the worker's image sets, so the test runs what the container runs.</summary>
    private static Dictionary<string, string> ImageLoggingSettings()
    {
        var dockerfile = File.ReadAllText(Path.Combine(TestServices.RepositoryRoot, "WorkerHost", "Dockerfile"));
        var settings = LoggingVariable().Matches(dockerfile).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal("json", settings.GetValueOrDefault("Logging__Console__FormatterName"));
        return settings;
    }

    private static JsonElement? Parse(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Message(JsonElement entry) => entry.TryGetProperty("Message", out var message) ? message.GetString() ?? "" : "";

    /// <summary>A value from the entry's scopes; fails listing them when none has it.</summary>
    private static string Scope(JsonElement entry, string name)
    {
        if (entry.TryGetProperty("Scopes", out var scopes))
            foreach (var scope in scopes.EnumerateArray())
                if (scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty(name, out var value))
                    return value.ToString();
        throw new Xunit.Sdk.XunitException($"no {name} in the scopes of {entry}");
    }

    [GeneratedRegex(@"^\s*(Logging__[A-Za-z_]+)=(\S+)", RegexOptions.Multiline)]
    private static partial Regex LoggingVariable();
}
