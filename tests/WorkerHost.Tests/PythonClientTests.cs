using System.Text.Json;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// The Python clients of docs/examples, written from docs/messages.md alone with Debian's python3-pika, publish
/// ClassifyImage and SubmitTraining to the workers and get the answers both through a response address and as events.
/// </summary>
[Collection(ServingWorkerCollection.Name)]
[Trait("Level", "processes")]
public sealed class PythonClientTests(ServingWorker serving)
{
    private readonly JobSystem system = serving.System;

    private (int ExitCode, JsonElement? Answer, string Output) RunExample(string script, string arguments)
    {
        var broker = ServiceEndpoints.Shared;
        var path = Path.Combine(TestServices.RepositoryRoot, "docs", "examples", script);
        var (exitCode, output) = ExternalProcess.Run("/usr/bin/python3",
            $"\"{path}\" {arguments} --host {broker.Host} --port {broker.RabbitPort} --user {broker.RabbitUser} --password {broker.RabbitPassword} --vhost {system.VirtualHost} --timeout 60",
            timeout: TimeSpan.FromMinutes(2));
        Skip.If(output.Contains("No module named 'pika'"), "python3-pika is not installed (scripts/test.sh installs it)");
        int start = output.IndexOf('{');
        return (exitCode, start < 0 ? null : JsonDocument.Parse(output[start..]).RootElement.Clone(), output);
    }

    [SkippableFact]
    public void A_classify_request_is_answered_through_a_response_address_and_as_an_event()
    {
        foreach (var mode in new[] { "", "--event" })
        {
            var (exitCode, answer, output) = RunExample("classify.py", $"\"{TestServices.Fixture("tabby_cat.jpg")}\" {mode}");
            Assert.True(exitCode == 0, $"classify.py {mode}: exit {exitCode}\n{output}");
            Assert.Equal("ImageClassified", answer!.Value.GetProperty("kind").GetString());
            Assert.Equal("imagenet", answer.Value.GetProperty("message").GetProperty("modelName").GetString());
            Assert.Equal(5, answer.Value.GetProperty("message").GetProperty("predictions").GetArrayLength());
        }
    }

    [SkippableFact]
    public async Task A_training_submission_is_queued_through_a_response_address_and_as_an_event_and_a_bad_one_is_rejected()
    {
        var dataset = system.AddPhotos($"photos-{Guid.NewGuid():N}"[..15], copies: 2);
        var runId = Guid.NewGuid();
        // The event first: a duplicate is answered to its sender only, never published again.
        foreach (var mode in new[] { "--event", "" })
        {
            var (exitCode, answer, output) = RunExample("submit_training.py", $"--config 1.0-SqNxt-23-28px --dataset {dataset} --run-id {runId} --max-steps 5 {mode}");
            Assert.True(exitCode == 0, $"submit_training.py {mode}: exit {exitCode}\n{output}");
            Assert.Equal("RunQueued", answer!.Value.GetProperty("kind").GetString());
            var message = answer.Value.GetProperty("message");
            Assert.Equal(runId, message.GetProperty("runId").GetGuid());
            // The run id is the idempotency key: the second submission is the same run.
            Assert.Equal(mode == "", message.GetProperty("duplicate").GetBoolean());
        }
        await using (var db = system.Db())
            Assert.Equal(dataset, (await db.Runs.SingleAsync(r => r.Id == runId)).Dataset);

        var (rejectedExit, rejected, rejectedOutput) = RunExample("submit_training.py", "--config 1.0-SqNxt-23-28px --dataset no-such-dataset --event");
        Assert.True(rejectedExit == 1, $"exit {rejectedExit}\n{rejectedOutput}");
        Assert.Equal("CommandRejected", rejected!.Value.GetProperty("kind").GetString());
        Assert.Contains("no-such-dataset", rejected.Value.GetProperty("message").GetProperty("reason").GetString());
    }
}
