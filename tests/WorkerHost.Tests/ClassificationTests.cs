using System.Text.Json;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>One worker serving a model, shared by the classification tests (a worker takes seconds to start).</summary>
[Trait("Level", "processes")]
public sealed class ServingWorker : IAsyncLifetime
{
    public JobSystem System { get; private set; } = null!;
    public AppProcess Worker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        System = await JobSystem.CreateAsync();
        await System.StartClientAsync();
        Worker = await System.StartWorkerAsync(new Dictionary<string, string>
        {
            ["Worker__RunJobs"] = "false",
            ["Worker__Classification__MaxBatchSize"] = "8",
            ["Worker__Classification__MaxDelay"] = "00:00:00.300",
        });
        await ServingModels.ServeRandomImageNetModelAsync(System, "imagenet", seed: 5);
    }

    public async Task DisposeAsync() => await System.DisposeAsync();
}

[CollectionDefinition(Name)]
[Trait("Level", "processes")]
public sealed class ServingWorkerCollection : ICollectionFixture<ServingWorker>
{
    public const string Name = "serving worker";
}

/// <summary>Batched classification through request/response on the real broker.</summary>
[Collection(ServingWorkerCollection.Name)]
[Trait("Level", "processes")]
public sealed class ClassificationTests(ServingWorker serving)
{
    private readonly JobSystem system = serving.System;
    private readonly AppProcess worker = serving.Worker;

    [Fact]
    public async Task A_request_is_answered_with_five_labels_and_one_nobody_waits_for_with_an_event()
    {
        var request = new ClassifyImage(NewId.NextGuid(), File.ReadAllBytes(TestServices.Fixture("tabby_cat.jpg")));

        var response = await system.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(request);

        Assert.True(response.Is(out Response<ImageClassified>? classified), "the image was rejected");
        var answer = classified!.Message;
        Assert.Equal(request.RequestId, answer.RequestId);
        Assert.Equal("imagenet", answer.ModelName);
        Assert.Equal(1, answer.ModelVersion);
        Assert.Equal(5, answer.Predictions.Count);
        Assert.All(answer.Predictions, p => Assert.NotNull(p.Synset));
        Assert.True(answer.Predictions.Zip(answer.Predictions.Skip(1), (a, b) => a.Probability >= b.Probability).All(ok => ok));

        // A request nobody waits for is answered with an event; one answered to its caller is not published again.
        var unanswered = request with { RequestId = NewId.NextGuid() };
        await system.Bus.Publish(unanswered);
        await system.WaitForEventAsync<ImageClassified>(e => e.RequestId == unanswered.RequestId, TimeSpan.FromSeconds(30), "the ImageClassified event");
        Assert.DoesNotContain(system.EventsOf<ImageClassified>(), e => e.RequestId == request.RequestId);
    }

    [Fact]
    public async Task A_corrupt_image_in_a_batch_is_rejected_with_a_reason_and_the_others_are_answered()
    {
        var good = new[] { "tabby_cat.jpg", "coffee.png", "rocket.jpg", "chelsea-cmyk.jpg" }
            .Select(f => new ClassifyImage(NewId.NextGuid(), File.ReadAllBytes(TestServices.Fixture(f)), Top: 3)).ToArray();
        var corrupt = new ClassifyImage(NewId.NextGuid(), File.ReadAllBytes(TestServices.Fixture("rocket.jpg"))[..200]);
        var notAnImage = new ClassifyImage(NewId.NextGuid(), "plain text"u8.ToArray());
        var client = system.Client<ClassifyImage>();

        var responses = await Task.WhenAll(good.Append(corrupt).Append(notAnImage)
            .Select(r => client.GetResponse<ImageClassified, ClassificationRejected>(r)));

        for (int i = 0; i < good.Length; i++)
        {
            Assert.True(responses[i].Is(out Response<ImageClassified>? classified), $"{i}: rejected");
            Assert.Equal(good[i].RequestId, classified!.Message.RequestId);
            Assert.Equal(3, classified.Message.Predictions.Count);
        }
        Assert.True(responses[good.Length].Is(out Response<ClassificationRejected>? rejected));
        Assert.Equal(corrupt.RequestId, rejected!.Message.RequestId);
        Assert.Contains("corrupt or truncated", rejected.Message.Reason);
        Assert.True(responses[good.Length + 1].Is(out Response<ClassificationRejected>? text));
        Assert.Contains("not an image", text!.Message.Reason);
        // The requests went out together, so at least some shared a forward pass.
        Assert.Contains(responses.Take(good.Length), r => r.Is(out Response<ImageClassified>? c) && c!.Message.BatchSize > 1);
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
    }

    [Fact]
    public async Task Requests_for_a_missing_model_or_with_a_bad_top_are_rejected()
    {
        var client = system.Client<ClassifyImage>();
        var image = File.ReadAllBytes(TestServices.Fixture("coffee.png"));

        var missing = await client.GetResponse<ImageClassified, ClassificationRejected>(new ClassifyImage(NewId.NextGuid(), image, ModelName: "nothing"));
        var badTop = await client.GetResponse<ImageClassified, ClassificationRejected>(new ClassifyImage(NewId.NextGuid(), image, Top: 0));

        Assert.True(missing.Is(out Response<ClassificationRejected>? m));
        Assert.Contains("no model named 'nothing'", m!.Message.Reason);
        Assert.True(badTop.Is(out Response<ClassificationRejected>? b));
        Assert.Contains("top: 0 is outside 1..1000", b!.Message.Reason);
    }

    [Fact]
    public async Task Health_endpoints_report_live_and_ready_with_the_serving_model()
    {
        using var http = new HttpClient { BaseAddress = worker.BaseAddress };

        var live = await http.GetAsync("/health/live");
        var ready = await http.GetAsync("/health/ready");

        Assert.True(live.IsSuccessStatusCode);
        Assert.True(ready.IsSuccessStatusCode);
        using var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var checks = report.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("postgres").GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("masstransit-bus").GetProperty("status").GetString());
        Assert.Contains("serving imagenet v1", checks.GetProperty("serving-model").GetProperty("description").GetString());
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("sqnxt_training_throughput", metrics);
    }
}
