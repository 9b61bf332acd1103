using System.Collections.Concurrent;
using Xunit.Abstractions;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// PostgreSQL and RabbitMQ restarted under a running worker (a private pair of services, so the other tests are not
/// disturbed): the worker reports not ready while a dependency is down, reconnects, and the run completes with its
/// metrics intact, or every classify request the broker accepted is answered. Chaos tests: they run with scripts/chaos-test.sh (SQNXT_CHAOS=1), not in the default test run.
/// </summary>
[Trait("Level", "processes")]
public sealed class DependencyFaultTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string? NotChaosRun = Environment.GetEnvironmentVariable("SQNXT_CHAOS") == "1"
        ? null : "a chaos test: run scripts/chaos-test.sh";
    private readonly PrivateServices? services = NotChaosRun is null ? PrivateServices.Start() : null;

    public void Dispose() => services?.Dispose();

    [SkippableFact]
    public async Task A_postgres_restart_during_a_run_is_reported_not_ready_and_the_run_completes()
    {
        Skip.If(services is null, NotChaosRun);
        await using var system = await JobSystem.CreateAsync(services!.Endpoints);
        var (worker, run) = await StartRunAsync(system);

        await RestartAsync(worker, services!.StopPostgres, readyAgainWithin: TimeSpan.FromSeconds(60));

        await AssertCompletedWithCleanMetricsAsync(system, run);
    }

    [SkippableFact]
    public async Task A_rabbitmq_restart_during_a_run_is_reported_not_ready_and_commands_are_answered_after_it()
    {
        Skip.If(services is null, NotChaosRun);
        await using var system = await JobSystem.CreateAsync(services!.Endpoints);
        var (worker, run) = await StartRunAsync(system);

        await RestartAsync(worker, services!.StopRabbitMq, readyAgainWithin: TimeSpan.FromSeconds(90));

        // The worker's consumers are connected again: a command is answered (the client's own bus may need a few
        // seconds more to recreate its reply queue, which the restart removed).
        var command = new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "no-such-dataset");
        Response<RunQueued, CommandRejected>? answer = null;
        for (int attempt = 0; attempt < 6 && answer is null; attempt++)
        {
            try
            {
                answer = await system.Bus.CreateRequestClient<SubmitTraining>(RequestTimeout.After(s: 10)).GetResponse<RunQueued, CommandRejected>(command);
            }
            catch (RequestTimeoutException)
            {
            }
        }
        Assert.True(answer is { } a && a.Is(out Response<CommandRejected>? _), "no answer after the broker came back");
        await AssertCompletedWithCleanMetricsAsync(system, run);
        // Progress events wait for the broker only briefly, so the heartbeat went on and the live run was never
        // taken for dead and started a second time.
        await using var db = system.Db();
        Assert.DoesNotContain(await db.RunEvents.Where(e => e.RunId == run).Select(e => e.Kind).ToListAsync(), kind => kind == RunEventKind.Requeued);
        Assert.Equal(1, (await db.Runs.SingleAsync(r => r.Id == run)).Attempts);
    }

    [SkippableFact]
    public async Task A_rabbitmq_restart_during_classify_load_loses_no_accepted_request()
    {
        Skip.If(services is null, NotChaosRun);
        await using var system = await JobSystem.CreateAsync(services!.Endpoints);
        // Answers go to a durable queue of the test's, so those published while the client is reconnecting wait there.
        var answered = new ConcurrentDictionary<Guid, bool>();
        await system.StartClientAsync(rabbit => rabbit.ReceiveEndpoint($"test-answers-{NewId.NextGuid():N}", endpoint =>
        {
            endpoint.Handler<ImageClassified>(context => Task.FromResult(answered.TryAdd(context.Message.RequestId, true)));
            endpoint.Handler<ClassificationRejected>(context => Task.FromResult(answered.TryAdd(context.Message.RequestId, false)));
        }));
        var worker = await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__RunJobs"] = "false", ["Worker__TorchThreads"] = "2" });
        await ServingModels.ServeRandomImageNetModelAsync(system, "chaos", seed: 7);

        // Four callers publish requests until told to stop; a request counts as accepted once the broker confirmed it.
        var image = await File.ReadAllBytesAsync(TestServices.Fixture("rocket.jpg"));
        var accepted = new ConcurrentBag<Guid>();
        int refused = 0;
        using var stop = new CancellationTokenSource();
        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var request = new ClassifyImage(NewId.NextGuid(), image);
                try
                {
                    using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await system.Bus.Publish(request, patience.Token);
                    accepted.Add(request.RequestId);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref refused);
                    await Task.Delay(200);
                }
                await Task.Delay(100);
            }
        })).ToArray();

        // Requests go through before the restart and after it, however fast this machine serves them.
        await system.WaitUntilAsync(() => Task.FromResult(answered.Count >= 10), "ten answers before the restart");
        await RestartAsync(worker, services!.StopRabbitMq, readyAgainWithin: TimeSpan.FromSeconds(90));
        int acceptedBeforeRestart = accepted.Count;
        await system.WaitUntilAsync(() => Task.FromResult(accepted.Count >= acceptedBeforeRestart + 10 && answered.Count >= acceptedBeforeRestart + 10),
            "ten more requests accepted and answered after the restart", TimeSpan.FromMinutes(2));
        await stop.CancelAsync();
        await Task.WhenAll(callers);

        try
        {
            await system.WaitUntilAsync(() => Task.FromResult(accepted.All(answered.ContainsKey)), "an answer to every accepted request", TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            // Reported below, with the count of those lost.
        }
        var lost = accepted.Where(id => !answered.ContainsKey(id)).ToList();
        output.WriteLine($"{accepted.Count} requests accepted, {refused} publishes refused while the broker was down, {lost.Count} accepted requests unanswered");
        Assert.True(lost.Count == 0, $"{lost.Count} of {accepted.Count} accepted requests were never answered ({refused} publishes refused while the broker was down)\n{worker.ReadLog()}");
        Assert.All(accepted, id => Assert.True(answered[id], $"request {id} was rejected"));
        Assert.False(worker.HasExited);
        Assert.Equal(0, await system.QueueDepthAsync("classify-image_error"));
    }

    private static async Task<(AppProcess Worker, Guid Run)> StartRunAsync(JobSystem system)
    {
        system.AddPhotos();
        await system.StartClientAsync();
        var worker = await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__TorchThreads"] = "2" });
        var submit = PhotoRuns.Submit(steps: 300, checkpointEvery: 20);
        var queued = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(submit);
        Assert.True(queued.Is(out Response<RunQueued>? _));
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == submit.RunId), TimeSpan.FromMinutes(2), "a first checkpoint");
        return (worker, submit.RunId);
    }

    private static async Task AssertCompletedWithCleanMetricsAsync(JobSystem system, Guid runId)
    {
        var run = await WaitTolerantlyAsync(system, db => db.Runs.FirstOrDefaultAsync(r => r.Id == runId && (r.Status == RunStatus.Completed || r.Status == RunStatus.Failed)),
            TimeSpan.FromMinutes(4), "the run's end");
        Assert.True(run.Status == RunStatus.Completed, $"the run ended {run.Status}: {run.Error}\n{system.Logs()}");
        await using var db = system.Db();
        var events = string.Join("\n", await db.RunEvents.Where(e => e.RunId == runId).OrderBy(e => e.Id).Select(e => $"{e.Kind}: {e.Message}").ToListAsync());
        Assert.True(run.Step == 300, $"completed at step {run.Step}\n{events}\n{system.Logs()[^Math.Min(6000, system.Logs().Length)..]}");
        var steps = await db.MetricPoints.Where(m => m.RunId == runId && m.Name == "train_loss").OrderBy(m => m.Id).Select(m => m.Step).ToListAsync();
        Assert.NotEmpty(steps);
        Assert.Equal(steps.Count, steps.Distinct().Count());
    }

    /// <summary>Like JobSystem.WaitForAsync, but a database that is still coming back is a reason to try again, not to fail.</summary>
    private static Task<T> WaitTolerantlyAsync<T>(JobSystem system, Func<SqueezeNext.Persistence.JobsDbContext, Task<T?>> probe, TimeSpan timeout, string what) where T : class =>
        Poll.ForAsync(async () =>
        {
            try
            {
                await using var db = system.Db();
                return await probe(db);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
            {
                return null;
            }
        }, what, timeout, system.Logs);

    /// <summary>Stops a dependency, sees the worker report not ready, starts it again after 3 s and sees the worker ready.</summary>
    private async Task RestartAsync(AppProcess worker, Action stop, TimeSpan readyAgainWithin)
    {
        stop();
        await WaitForReadinessAsync(worker, ready: false, TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3));
        services!.StartStopped();
        await WaitForReadinessAsync(worker, ready: true, readyAgainWithin);
    }

    private static async Task WaitForReadinessAsync(AppProcess worker, bool ready, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string last = "";
        await Poll.UntilAsync(async () =>
        {
            try
            {
                var response = await http.GetAsync(new Uri(worker.BaseAddress, "/health/ready"));
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                return response.IsSuccessStatusCode == ready;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
                return !ready;
            }
        }, $"/health/ready becoming {(ready ? "ready" : "not ready")}", timeout, () => $"last answer: {last}\n{worker.ReadLog()}");
    }
}
