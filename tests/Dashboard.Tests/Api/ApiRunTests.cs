using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>
/// A whole run over HTTP only, each step with a token of the role it needs: submit, wait, metrics, events, register,
/// promote, classify, and download as ONNX and safetensors.
/// </summary>
[Trait("Level", "processes")]
public sealed class ApiRunTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private ApiAccounts accounts = null!;
    private bool hasFashionMnist;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        // Before the worker starts: it lists its datasets when it starts.
        hasFashionMnist = system.AddFashionMnist();
        await system.StartWorkerAsync();
        dashboard = await system.StartDashboardAsync("api-run-test-password");
        accounts = new ApiAccounts(system, dashboard.BaseAddress);
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    [SkippableFact]
    public async Task A_run_is_trained_registered_promoted_served_and_downloaded_through_the_api_alone()
    {
        Skip.IfNot(hasFashionMnist, "Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
        using var viewer = accounts.Client(await accounts.TokenAsync("vera", AccountRole.Viewer));
        using var operatorClient = accounts.Client(await accounts.TokenAsync("otto", AccountRole.Operator));
        using var admin = accounts.Client(await accounts.TokenAsync("anna", AccountRole.Admin));

        // The workers publish their datasets a moment after they start.
        await system.WaitUntilAsync(async () => (await viewer.GetStringAsync("/api/v1/datasets")).Contains("fashion-mnist"), "the dataset list");

        var runId = Guid.NewGuid();
        var submission = new
        {
            runId, configuration = "1.0-SqNxt-23-28px", dataset = "fashion-mnist", name = "api run",
            settings = new { maxSteps = 40, batchSize = 32, warmupSteps = 5, preciseBatchNormBatches = 2, evalEverySteps = 40, evalMaxImages = 200, checkpointEverySteps = 40, seed = 7 },
        };
        using (var queued = await operatorClient.PostAsJsonAsync("/api/v1/runs/training", submission))
        {
            Assert.True(queued.StatusCode == HttpStatusCode.Accepted, await queued.Content.ReadAsStringAsync());
            Assert.Equal($"/api/v1/runs/{runId}", queued.Headers.Location!.OriginalString);
        }
        // The run id is the idempotency key: the same submission again is the same run.
        using (var again = await operatorClient.PostAsJsonAsync("/api/v1/runs/training", submission))
            Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());

        await system.WaitUntilAsync(async () => (await viewer.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}")).GetProperty("run").GetProperty("status").GetString() == "completed",
            "the run to complete", TimeSpan.FromMinutes(8));
        var run = await viewer.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(40, run.GetProperty("run").GetProperty("step").GetInt64());
        Assert.Contains(run.GetProperty("checkpoints").EnumerateArray(), c => c.GetProperty("step").GetInt64() == 40);

        var metrics = await viewer.GetFromJsonAsync<JsonElement[]>($"/api/v1/runs/{runId}/metrics?name=train_loss");
        Assert.NotNull(metrics);
        Assert.NotEmpty(metrics);
        Assert.All(metrics, m => Assert.Equal("train_loss", m.GetProperty("name").GetString()));
        var csv = (await viewer.GetStringAsync($"/api/v1/runs/{runId}/metrics?format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("name,step,epoch,time,value", csv[0]);
        Assert.True(csv.Length > metrics.Length, $"{csv.Length - 1} CSV rows for all metrics, {metrics.Length} points of the loss");
        var events = await viewer.GetFromJsonAsync<JsonElement[]>($"/api/v1/runs/{runId}/events");
        Assert.Contains(events!, e => e.GetProperty("kind").GetString() == "completed");
        var page = await viewer.GetFromJsonAsync<JsonElement>("/api/v1/runs?status=completed&kind=training&take=10");
        Assert.Equal(1, page.GetProperty("total").GetInt32());

        using (var registered = await admin.PostAsJsonAsync("/api/v1/models/fashion-api/versions", new { runId }))
        {
            Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
            Assert.Equal("/api/v1/models/fashion-api/versions/1", registered.Headers.Location!.OriginalString);
        }
        using (var promoted = await admin.PostAsJsonAsync("/api/v1/models/fashion-api/versions/1/promote", new { }))
            Assert.True(promoted.IsSuccessStatusCode, await promoted.Content.ReadAsStringAsync());
        var versions = await viewer.GetFromJsonAsync<JsonElement[]>("/api/v1/models/fashion-api/versions");
        Assert.True(versions!.Single().GetProperty("serving").GetBoolean());

        using var image = new MultipartFormDataContent();
        var photo = new ByteArrayContent(await File.ReadAllBytesAsync(TestServices.Fixture("chelsea.png")));
        photo.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        image.Add(photo, "image", "chelsea.png");
        using (var classified = await operatorClient.PostAsync("/api/v1/classify?model=fashion-api&top=3", image))
        {
            var body = await classified.Content.ReadAsStringAsync();
            Assert.True(classified.IsSuccessStatusCode, body);
            var answer = JsonSerializer.Deserialize<JsonElement>(body, Json);
            Assert.Equal("fashion-api", answer.GetProperty("modelName").GetString());
            Assert.Equal(3, answer.GetProperty("predictions").GetArrayLength());
        }

        var onnx = await DownloadAsync(viewer, "onnx", "fashion-api-v1.onnx");
        using (var session = new InferenceSession(onnx))
            Assert.Equal([3, 28, 28], session.InputMetadata.Values.Single().Dimensions[1..]);
        var safetensors = await DownloadAsync(viewer, "safetensors", "fashion-api-v1.safetensors");
        long headerLength = BitConverter.ToInt64(safetensors, 0);
        Assert.Contains("sqnxt.configuration", Encoding.UTF8.GetString(safetensors, 8, (int)headerLength));
    }

    private static async Task<byte[]> DownloadAsync(HttpClient http, string format, string fileName)
    {
        using var response = await http.GetAsync($"/api/v1/models/fashion-api/versions/1/download?format={format}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(fileName, response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(response.Headers.GetValues("X-Content-SHA256").Single(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return bytes;
    }
}
