using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// Payloads at and beyond the broker's message size limit (16 MiB on the test broker, RabbitMQ 4's default) travel by
/// reference through the shared message data store; the limits and rejections stay as they are; a reference outside
/// the store is refused.
/// </summary>
[Collection(ServingWorkerCollection.Name)]
[Trait("Level", "in-process")]
public sealed class MessageDataTests(ServingWorker serving) : IDisposable
{
    private const int BrokerMaxMessageBytes = 16 * 1024 * 1024;
    private readonly JobSystem system = serving.System;
    private readonly string folder = Directory.CreateTempSubdirectory("sqnxt-message-data-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A real JPEG followed by padding (decoders stop at its end marker) to exactly <paramref name="bytes"/>.</summary>
    private static byte[] JpegOfSize(int bytes)
    {
        var jpeg = File.ReadAllBytes(TestServices.Fixture("tabby_cat.jpg"));
        var padded = new byte[bytes];
        jpeg.CopyTo(padded, 0);
        return padded;
    }

    [Fact]
    public async Task An_image_as_large_as_the_brokers_limit_is_classified_and_one_byte_more_is_rejected_by_size()
    {
        var client = system.Bus.CreateRequestClient<ClassifyImage>(RequestTimeout.After(s: 120));

        var atLimit = await system.ClassifyRequestAsync(JpegOfSize(BrokerMaxMessageBytes));
        Assert.Empty(atLimit.Image);
        var classified = await client.GetResponse<ImageClassified, ClassificationRejected>(atLimit);
        Assert.True(classified.Is(out Response<ImageClassified>? answer), classified.Message is ClassificationRejected r ? r.Reason : "");
        Assert.Equal(5, answer!.Message.Predictions.Count);

        var overLimit = await system.ClassifyRequestAsync(JpegOfSize(BrokerMaxMessageBytes + 1));
        var rejected = await client.GetResponse<ImageClassified, ClassificationRejected>(overLimit);
        Assert.True(rejected.Is(out Response<ClassificationRejected>? refusal), "an image over the limit was classified");
        Assert.Contains("16,777,217 bytes", refusal!.Message.Reason);
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
    }

    [Fact]
    public async Task Weights_whose_message_would_pass_the_brokers_limit_import_by_reference_and_inline_the_broker_refuses_them()
    {
        // pytorchcv's largest SqueezeNext: 13.5 MB of weights, 18 MB once base64 in a message.
        var configuration = ConfigurationCatalog.Get("sqnxt23v5_w2");
        var model = Path.Combine(folder, "model");
        using (var network = new SqueezeNextNetwork(configuration.Architecture, seed: 3))
            ModelArtifact.Save(model, network, configuration);
        var file = Path.Combine(folder, "sqnxt23v5_w2.safetensors");
        ModelExport.ToSafetensors(model, file);
        var weights = await File.ReadAllBytesAsync(file);
        Assert.True(weights.Length * 4L / 3 > BrokerMaxMessageBytes, $"{weights.Length} bytes would fit inline");

        var byReference = new ImportModel(NewId.NextGuid(), "large", "sqnxt23v5_w2.safetensors", "safetensors", [],
            WeightsData: await system.MessageData.PutBytes(weights));
        var imported = await system.Client<ImportModel>().GetResponse<ModelRegistered, CommandRejected>(byReference, timeout: RequestTimeout.After(s: 120));
        Assert.True(imported.Is(out Response<ModelRegistered>? registered), imported.Message is CommandRejected c ? c.Reason : "");
        Assert.Equal("large", registered!.Message.ModelName);

        // The same file inside the message: the broker closes the channel on it each time MassTransit tries, so the
        // publish never completes and nothing is imported. This is why every sender in the product puts payloads over
        // 1 MiB into the store.
        var inline = byReference with { CommandId = NewId.NextGuid(), ModelName = "large-inline", Weights = weights, WeightsData = null };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => system.Bus.Publish(inline, new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token));
        await using var db = system.Db();
        Assert.False(await db.ModelVersions.AnyAsync(v => v.Name == "large-inline"));
    }

    [Fact]
    public async Task A_reference_outside_the_store_or_to_nothing_is_rejected_and_names_the_problem()
    {
        var client = system.Bus.CreateRequestClient<ClassifyImage>(RequestTimeout.After(s: 60));
        foreach (var (address, expected) in new[]
                 {
                     ("urn:sqnxt-data:../../../../etc/passwd", "outside the store"),
                     ("urn:sqnxt-data:2026-01-01/no-such-payload", "not in the store"),
                     ("urn:file:etc:passwd", "not one of this store's"),
                 })
        {
            var request = new ClassifyImage(NewId.NextGuid(), [], ImageData: new ForeignReference(new Uri(address)));
            var answer = await client.GetResponse<ImageClassified, ClassificationRejected>(request);
            Assert.True(answer.Is(out Response<ClassificationRejected>? rejected), $"{address} was classified");
            Assert.Contains(expected, rejected!.Message.Reason);
            Assert.StartsWith("imageData: ", rejected.Message.Reason);
        }
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
    }

    [Fact]
    public async Task A_reference_travels_in_the_json_as_docs_messages_shows_it()
    {
        // A copy of every ClassifyImage published, to read as a client in another language would see it.
        await system.BindQueueAsync("classify-image-copy", "SqueezeNext.Contracts:ClassifyImage");
        var reference = await system.MessageData.PutBytes(await File.ReadAllBytesAsync(TestServices.Fixture("tabby_cat.jpg")));
        await system.Bus.Publish(new ClassifyImage(NewId.NextGuid(), [], ImageData: reference));

        var copy = await Poll.ForAsync(async () => await system.TakeMessagesAsync("classify-image-copy", 1, payloadChars: 100_000) is { Count: > 0 } taken ? taken : null,
            "the copy of the message", TimeSpan.FromSeconds(30));
        using var envelope = System.Text.Json.JsonDocument.Parse(copy.Single().GetProperty("payload").GetString()!);
        var imageData = envelope.RootElement.GetProperty("message").GetProperty("imageData");

        Assert.Equal(reference.Address.ToString(), imageData.GetProperty("data-ref").GetString());
        Assert.StartsWith("urn:sqnxt-data:", imageData.GetProperty("data-ref").GetString());
    }

    /// <summary>A reference some other sender made up, which the store never wrote.</summary>
    private sealed class ForeignReference(Uri address) : MessageData<byte[]>
    {
        public Uri Address { get; } = address;
        public bool HasValue => true;
        public Task<byte[]> Value => throw new InvalidOperationException("only the address travels");
    }
}
