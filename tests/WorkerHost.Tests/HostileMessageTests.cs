using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// Messages no well-behaved client sends, written straight to the worker's queues: they are set aside (error or
/// skipped queue, or a recorded rejection) once, never redelivered in a loop, and the worker keeps serving.
/// </summary>
[Trait("Level", "processes")]
public sealed class HostileMessageTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private AppProcess worker = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        system.AddPhotos();
        await system.StartClientAsync();
        worker = await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__RunJobs"] = "false" });
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    [Fact]
    public async Task Malformed_unknown_and_incomplete_messages_are_set_aside_once_and_the_worker_keeps_serving()
    {
        var factory = new ConnectionFactory
        {
            HostName = TestServices.RabbitHost, Port = TestServices.RabbitPort, VirtualHost = system.VirtualHost,
            UserName = TestServices.RabbitUser, Password = TestServices.RabbitPassword,
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        async Task SendAsync(string queue, string body, string contentType = "application/vnd.masstransit+json") =>
            await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { ContentType = contentType, MessageId = Guid.NewGuid().ToString() },
                Encoding.UTF8.GetBytes(body));
        static string Envelope(string type, string message) =>
            $$"""{"messageId":"{{Guid.NewGuid()}}","messageType":["urn:message:{{type}}"],"message":{{message}}}""";

        await SendAsync("submit-training", "{ this is not json");
        await SendAsync("submit-training", "\u0001\u0002binary", "application/octet-stream");
        await SendAsync("submit-training", Envelope("Nobody.Contracts:Nothing", "{}"));
        await SendAsync("submit-training", Envelope("SqueezeNext.Contracts:SubmitTraining", "{}"));
        await SendAsync("submit-training", Envelope("SqueezeNext.Contracts:SubmitTraining", """{"runId":"not-a-guid","configuration":7}"""));
        await SendAsync("classify-image", Envelope("SqueezeNext.Contracts:ClassifyImage", """{"requestId":"00000000-0000-0000-0000-000000000001"}"""));
        await SendAsync("import-model", Envelope("SqueezeNext.Contracts:ImportModel", """{"commandId":"00000000-0000-0000-0000-000000000002","weights":"%%% not base64"}"""));
        // JSON has no NaN: a sender that writes one anyway is set aside like any other unreadable message.
        await SendAsync("submit-training", Envelope("SqueezeNext.Contracts:SubmitTraining",
            $$$"""{"runId":"{{{Guid.NewGuid()}}}","configuration":"v_1_0_SqNxt_23","dataset":"photos","settings":{"learningRate":"NaN"}}"""));

        // Every message leaves its queue, and the six unreadable ones land once in an error or skipped queue: none comes back.
        var settled = await system.WaitUntilSettledAsync(Queues, async () => $"{await SetAsideAsync()} set aside", "the hostile messages");
        Assert.Equal("6 set aside", settled);

        // The missing-field envelope was read and rejected like any invalid command: recorded, not set aside.
        await using (var db = system.Db())
            Assert.Contains(await db.ProcessedCommands.Where(c => c.Type == "SubmitTraining").Select(c => c.Reason).ToListAsync(), r => r!.Contains("runId"));

        // The worker is up and still answers a real command on the same queue.
        Assert.False(worker.HasExited, worker.ReadLog());
        var rejected = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(
            new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { LearningRate = 1e300 }));
        Assert.True(rejected.Is(out Response<CommandRejected>? reason), "a learning rate of 1e300 was accepted");
        Assert.Equal("learningRate: 1E+300 is outside 1E-09..100", reason!.Message.Reason);
        await using var check = system.Db();
        Assert.Equal(0, await check.Runs.CountAsync());
        Assert.InRange(worker.ResidentMegabytes, 1, 1500);
    }

    [Fact]
    public async Task Absurd_values_are_rejected_naming_the_field()
    {
        var cases = new (SubmitTraining Command, string Reason)[]
        {
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { BatchSize = 0 }), "batchSize: 0 is outside 1..65536"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { Epochs = 1_000_000 }), "epochs: 1000000 is outside 1..10000"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { LearningRate = 1e300 }), "learningRate: 1E+300 is outside 1E-09..100"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { WeightDecay = -1 }), "weightDecay: -1 is outside 0..1"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { MaxSteps = -3 }), "maxSteps: -3 is outside 1..1000000000"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", ".."), "is not a folder name under the data root"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos/../.."), "is not a folder name under the data root"),
            (new SubmitTraining(NewId.NextGuid(), "", "photos"), "configuration"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", ConfigurationJson: "{ \"base\": \"v_1_0_SqNxt_23\", \"name\": \"mine\", \"training\": { \"epochz\": 3 } }"), "training.epochz: unknown field"),
        };

        foreach (var (command, reason) in cases)
        {
            var response = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(command);
            Assert.True(response.Is(out Response<CommandRejected>? rejected), $"{reason}: accepted");
            Assert.Contains(reason, rejected!.Message.Reason);
        }
        await using var db = system.Db();
        Assert.Equal(0, await db.Runs.CountAsync());
        Assert.Equal(0, await system.QueueDepthAsync("submit-training_error"));
    }

    private static readonly string[] Queues = ["submit-training", "classify-image", "import-model"];

    private async Task<long> SetAsideAsync()
    {
        long total = 0;
        foreach (var queue in Queues)
            total += await system.ReadyMessagesAsync(queue + "_error") + await system.ReadyMessagesAsync(queue + "_skipped");
        return total;
    }
}
