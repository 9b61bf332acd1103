using System.Diagnostics;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary><c>sqnxt bus</c> against a real worker through the real broker.</summary>
[Collection(ServingWorkerCollection.Name)]
[Trait("Level", "processes")]
public sealed class BusCommandTests(ServingWorker serving)
{
    private (int ExitCode, string Output, string Error) Sqnxt(params string[] args) => SqnxtOn(serving.System.VirtualHost, args);

    private static (int ExitCode, string Output, string Error) SqnxtOn(string virtualHost, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(SqnxtPath());
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--rabbit-host");
        start.ArgumentList.Add(TestServices.RabbitHost);
        start.ArgumentList.Add("--rabbit-port");
        start.ArgumentList.Add(TestServices.RabbitPort.ToString());
        start.ArgumentList.Add("--rabbit-vhost");
        start.ArgumentList.Add(virtualHost);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "sqnxt did not finish");
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string SqnxtPath() => Path.Combine(TestServices.ProjectOutput("Cli"), "sqnxt.dll");

    [Fact]
    public void Bus_classify_waits_for_the_answer_and_prints_the_top_five()
    {
        var (exit, output, error) = Sqnxt("bus", "classify", TestServices.Fixture("coffee.png"));

        Assert.True(exit == 0, error);
        Assert.Contains("imagenet v1", output);
        Assert.Equal(5, output.Split('\n').Count(line => line.TrimStart().Length > 2 && char.IsDigit(line.TrimStart()[0]) && line.TrimStart()[1] == '.'));
    }

    [Fact]
    public async Task Bus_classify_sends_its_request_non_persistent_where_a_published_one_stays_persistent()
    {
        // No worker in this virtual host: the request waits in the queue to be looked at (until its time to live,
        // which MassTransit sets to the caller's timeout, runs out).
        await using var system = await JobSystem.CreateAsync();
        await system.BindQueueAsync("classify-image", "SqueezeNext.Contracts:ClassifyImage");
        await system.StartClientAsync();

        var submit = Task.Run(() => SqnxtOn(system.VirtualHost, "bus", "classify", TestServices.Fixture("coffee.png"), "--timeout", "8"));
        // The request is sent only once sqnxt has started and connected, which on a busy host takes longer than its
        // 8 s answer timeout; it stays in the queue for those 8 s from then, so watch for it while sqnxt runs.
        var request = await TakeOneAsync(system, submit);
        await system.Bus.Publish(new ClassifyImage(NewId.NextGuid(), File.ReadAllBytes(TestServices.Fixture("coffee.png"))));
        var published = await TakeOneAsync(system, Task.Delay(TimeSpan.FromSeconds(8)));
        var (exit, _, error) = await submit;

        // AMQP delivery mode 1 is non-persistent, 2 persistent.
        Assert.Equal(1, request.GetProperty("properties").GetProperty("delivery_mode").GetInt32());
        Assert.Equal(2, published.GetProperty("properties").GetProperty("delivery_mode").GetInt32());
        Assert.Equal(1, exit);
        Assert.Contains("no worker answered in time", error);
    }

    /// <summary>The first message on classify-image, looked for until <paramref name="until"/> has ended and once after.</summary>
    private static async Task<System.Text.Json.JsonElement> TakeOneAsync(JobSystem system, Task until)
    {
        System.Text.Json.JsonElement? taken = null;
        bool last = false;
        await Poll.UntilAsync(async () =>
        {
            last = until.IsCompleted;
            if (await system.TakeMessagesAsync("classify-image", 1) is [var message]) taken = message;
            return taken is not null || last;
        }, "a message on classify-image", TimeSpan.FromMinutes(2));
        return taken ?? throw new TimeoutException("nothing reached classify-image before the command gave up");
    }

    [Fact]
    public void Bus_reports_a_rejection_in_one_line()
    {
        var train = Sqnxt("bus", "train", "--config", "v_1_0_SqNxt_23", "--dataset", "../../etc");
        var classify = Sqnxt("bus", "classify", TestServices.Fixture("README.md"));

        Assert.Equal(1, train.ExitCode);
        Assert.StartsWith("sqnxt: error: rejected: dataset name '../../etc' is not a folder name under the data root", train.Error);
        Assert.Single(train.Error.TrimEnd().Split('\n'));
        Assert.Equal(1, classify.ExitCode);
        Assert.Contains("is not an image in a supported format", classify.Error);
    }
}
