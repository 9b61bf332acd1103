using System.Net.Http.Json;
using System.Text.Json;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>Steps several API tests take on the way to what they check: a run trained to completion, a model served.</summary>
public static class ApiSteps
{
    /// <summary>Waits until the workers have published <paramref name="dataset"/> (they do a moment after they start).</summary>
    public static Task WaitForDatasetAsync(this JobSystem system, HttpClient client, string dataset = "fashion-mnist") =>
        system.WaitUntilAsync(async () => (await client.GetStringAsync("/api/v1/datasets")).Contains(dataset), "the dataset list");

    /// <summary>Submits a training run (<paramref name="submission"/> carries its runId) and waits until it has completed.</summary>
    public static async Task TrainToCompletionAsync(this JobSystem system, HttpClient client, Guid runId, object submission)
    {
        using (var queued = await client.PostAsJsonAsync("/api/v1/runs/training", submission))
            Assert.True(queued.IsSuccessStatusCode, await queued.Content.ReadAsStringAsync());
        await system.WaitUntilAsync(async () =>
                (await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}")).GetProperty("run").GetProperty("status").GetString() == "completed",
            "the run to complete", TimeSpan.FromMinutes(5));
    }

    /// <summary>Registers the run's model as version 1 of <paramref name="model"/> and promotes it to serve.</summary>
    public static async Task ServeAsync(HttpClient admin, string model, Guid runId)
    {
        using (var registered = await admin.PostAsJsonAsync($"/api/v1/models/{model}/versions", new { runId }))
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
        using (var promoted = await admin.PostAsJsonAsync($"/api/v1/models/{model}/versions/1/promote", new { }))
            Assert.True(promoted.IsSuccessStatusCode, await promoted.Content.ReadAsStringAsync());
    }
}
