using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Deployment.Tests.ComposeStack;

/// <summary>
/// `docker compose up` for real (issue 19, point 3): the committed compose.yaml on the images scripts/compose-test.sh
/// built, from clean volumes to `down -v`. The steps run in order and each builds on the one before; every failure
/// names its point.
/// Over 200 lines as one ordered scenario whose steps build on each other.
/// </summary>
[TestCaseOrderer(StepOrderer.Name, StepOrderer.Assembly)]
[Trait("Level", "containers")]
public sealed class ComposeStackTests(ComposeStack stack) : IClassFixture<ComposeStack>
{
    /// <summary>From `up -d` on clean volumes to every service healthy (docs/deployment.md has the measured times).</summary>
    private static readonly TimeSpan HealthyBound = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(10);
    private const string ServedModel = "fashion";

    [SkippableFact, Step(1)]
    public async Task Point_1_up_from_clean_volumes_makes_every_service_healthy_within_the_bound()
    {
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        stack.ComposeOrFail("down -v --remove-orphans", "point 1 (clean volumes)");
        Assert.True(stack.LeftOver().Length == 0, $"point 1: the project is not clean before the test:\n{stack.LeftOver()}");

        var started = DateTime.UtcNow;
        stack.ComposeOrFail("up -d", "point 1 (up -d)");
        await stack.WaitUntilHealthyAsync(HealthyBound - (DateTime.UtcNow - started), "point 1 (up -d)");
        Timings.Record("up -d on clean volumes until every service is healthy", DateTime.UtcNow - started);

        // The broker's AMQP port and management UI are published on loopback only.
        var bindings = ComposeStack.Inspect(stack.Containers("rabbitmq").Single()).GetProperty("HostConfig").GetProperty("PortBindings");
        foreach (var (port, published) in new[] { ("5672/tcp", stack.BrokerPort), ("15672/tcp", stack.ManagementPort) })
        {
            Assert.True(bindings.TryGetProperty(port, out var binding), $"point 1: compose does not publish the broker's {port}");
            Assert.Equal(("127.0.0.1", published.ToString()), (binding[0].GetProperty("HostIp").GetString(), binding[0].GetProperty("HostPort").GetString()));
        }
    }

    [SkippableFact, Step(2)]
    public async Task Point_2_in_chromium_the_admin_signs_in_trains_on_fashion_mnist_in_the_worker_container_registers_and_promotes()
    {
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        Skip.If(DashboardBrowser.Unavailable is not null, DashboardBrowser.Unavailable);
        // The generated password, as a user finds it: printed once to the dashboard's log.
        var password = Regex.Match(stack.Logs("dashboard", tail: 1000), @"Generated the dashboard password for user 'admin': (\S+)").Groups[1].Value;
        Assert.True(password.Length > 10, $"point 2: the dashboard's log does not show a generated password:\n{stack.Logs("dashboard")}");

        await using var browser = await DashboardBrowser.LaunchAsync(stack.Dashboard);
        var page = await browser.SignedInPageAsync(password);
        try
        {
            var started = DateTime.UtcNow;
            var run = await DashboardBrowser.StartTrainingAsync(page, steps: 80, checkpointEvery: 40);
            await DashboardBrowser.WaitForCircuitAsync(page);
            await page.WaitForSelectorAsync(".status-badge[data-status='completed']", new() { Timeout = (float)RunBound.TotalMilliseconds });
            Timings.Record("an 80-step Fashion-MNIST run from the form, submitted to completed", DateTime.UtcNow - started);
            await DashboardBrowser.ScreenshotAsync(page, "compose-run-completed");

            // It ran in the worker container (its log says so) and wrote under the artifacts volume.
            await using (var db = stack.Db())
            {
                var row = await db.Runs.SingleAsync(r => r.Id == run);
                Assert.True(row.Status == RunStatus.Completed && row.Step == 80, $"point 2: the run is {row.Status} at step {row.Step}");
                Assert.StartsWith("/artifacts/", row.OutputDirectory);
            }
            var workerLog = ComposeStack.ContainerLog(stack.Containers("worker").Single());
            Assert.True(workerLog.Contains($"Run {run} completed", StringComparison.Ordinal), $"point 2: the worker container's log does not show run {run} completing:\n{workerLog}");

            await DashboardBrowser.RegisterAndPromoteAsync(page, run, step: 80, ServedModel);
            await DashboardBrowser.ScreenshotAsync(page, "compose-models");
            await using (var db = stack.Db())
                Assert.True(await db.ModelVersions.AnyAsync(v => v.Name == ServedModel && v.Version == 1 && v.IsServing), "point 2: fashion v1 is not serving");

            stack.AdminPassword = password;
            stack.BrowserRun = run;
            stack.SignedInState = await page.Context.StorageStateAsync();
        }
        catch
        {
            await DashboardBrowser.ScreenshotAsync(page, "compose-failure");
            throw;
        }
    }

    [SkippableFact, Step(3)]
    public void Point_3_a_python_pika_client_gets_the_top_5_as_the_event_and_through_a_response_address()
    {
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        var client = Path.Combine(TestServices.RepositoryRoot, "docs", "examples", "classify.py");
        foreach (var (mode, how) in new[] { ("", "through a response address"), ("--event", "as the ImageClassified event") })
        {
            var (exitCode, output) = ExternalProcess.Run("/usr/bin/python3",
                $"\"{client}\" \"{TestServices.Fixture("chelsea.png")}\" --port {stack.BrokerPort} --user {ComposeStack.BrokerUser} --password {ComposeStack.BrokerPassword} --timeout 60 {mode}",
                timeout: TimeSpan.FromMinutes(2));
            Assert.False(output.Contains("No module named 'pika'"), "point 3: python3-pika is not installed (scripts/compose-test.sh installs it)");
            Assert.True(exitCode == 0, $"point 3 ({how}): docs/examples/classify.py exited with {exitCode}:\n{output}");
            using var answer = JsonDocument.Parse(output);
            Assert.Equal("ImageClassified", answer.RootElement.GetProperty("kind").GetString());
            var message = answer.RootElement.GetProperty("message");
            Assert.Equal(ServedModel, message.GetProperty("modelName").GetString());
            var probabilities = message.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probability").GetDouble()).ToList();
            Assert.True(probabilities.Count == 5, $"point 3 ({how}): {probabilities.Count} predictions, not the top 5");
            Assert.Equal(probabilities.OrderDescending(), probabilities);
        }
    }

    [SkippableFact, Step(4)]
    public async Task Point_4_with_two_workers_two_queued_runs_are_executed_by_different_worker_containers_each_exactly_once()
    {
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        stack.ComposeOrFail("up -d --scale worker=2", "point 4 (--scale worker=2)");
        await stack.WaitUntilHealthyAsync(HealthyBound, "point 4 (--scale worker=2)", workers: 2);
        var workers = stack.Containers("worker");

        await using var client = await stack.ClientAsync();
        var runs = new[] { NewId.NextGuid(), NewId.NextGuid() };
        foreach (var run in runs) await SubmitAsync(client, run, steps: 60, checkpointEvery: 0);
        await using var db = stack.Db();
        var finished = await WaitForRunsAsync(runs, "point 4");

        Assert.True(finished.All(r => r.Status == RunStatus.Completed), $"point 4: {string.Join(", ", finished.Select(r => $"{r.Id} {r.Status} {r.Error}"))}");
        // Which container claimed each run, from the containers' logs and from the RunStarted events (the worker's host name).
        var logs = workers.ToDictionary(id => id, ComposeStack.ContainerLog);
        var hosts = workers.ToDictionary(id => id, id => ComposeStack.Inspect(id).GetProperty("Config").GetProperty("Hostname").GetString()!);
        var executors = new List<string>();
        foreach (var run in finished)
        {
            var claimedBy = workers.Where(id => logs[id].Contains($"Claimed Training run {run.Id}", StringComparison.Ordinal)).ToList();
            Assert.True(claimedBy.Count == 1, $"point 4: run {run.Id} was claimed in {claimedBy.Count} worker containers");
            Assert.True(run.Attempts == 1, $"point 4: run {run.Id} was claimed {run.Attempts} times");
            var started = client.EventsOf<RunStarted>().Where(e => e.RunId == run.Id).ToList();
            Assert.True(started.Count == 1 && started[0].Worker.StartsWith(hosts[claimedBy[0]] + "/", StringComparison.Ordinal),
                $"point 4: run {run.Id} started {started.Count} times ({string.Join(", ", started.Select(e => e.Worker))}), not once in container {hosts[claimedBy[0]]}");
            await AssertNoMetricPointTwiceAsync(db, run.Id, "point 4");
            executors.Add(claimedBy[0]);
        }
        Assert.True(executors.Distinct().Count() == 2, $"point 4: both runs were executed by worker container {executors[0][..12]}, not one by each of the two");

        stack.ComposeOrFail("up -d --scale worker=1", "point 4 (back to one worker)");
        await stack.WaitUntilHealthyAsync(HealthyBound, "point 4 (back to one worker)");
    }

    [SkippableFact, Step(5)]
    public async Task Point_5_restarting_the_worker_during_a_run_resumes_it_from_its_newest_checkpoint_with_no_metric_point_twice()
    {
        const long Steps = 400;
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        await using var client = await stack.ClientAsync();
        var run = NewId.NextGuid();
        await SubmitAsync(client, run, steps: Steps, checkpointEvery: 40);

        // Restarted as soon as its first checkpoint is announced (a tenth of the way), so the restart interrupts work.
        await client.WaitForEventAsync<CheckpointSaved>(e => e.RunId == run, RunBound, "point 5: the run's first checkpoint", () => stack.Logs("worker"));
        var restart = DateTime.UtcNow;
        stack.ComposeOrFail("restart worker", "point 5 (restart worker)", TimeSpan.FromMinutes(3));
        Timings.Record("docker-compose restart worker during a run (checkpoint, stop, start)", DateTime.UtcNow - restart);

        var finished = (await WaitForRunsAsync([run], "point 5")).Single();
        Assert.True(finished.Status == RunStatus.Completed && finished.Step == Steps, $"point 5: the run ended {finished.Status} at step {finished.Step}: {finished.Error}");
        Assert.True(finished.Attempts == 2, $"point 5: the run was claimed {finished.Attempts} times, not twice (once before the restart, once after)");
        await client.WaitForEventAsync<RunStarted>(e => e.RunId == run && e.Attempt == 2, TimeSpan.FromSeconds(30), "point 5: the second RunStarted");
        var resumed = client.EventsOf<RunStarted>().Single(e => e.RunId == run && e.Attempt == 2);

        await using (var db = stack.Db())
        {
            var newest = await db.Checkpoints.Where(c => c.RunId == run && c.CreatedAt <= resumed.StartedAt).MaxAsync(c => c.Step);
            Assert.True(resumed.Step == newest && newest > 0, $"point 5: the run resumed at step {resumed.Step}, its newest checkpoint was step {newest}");
            Assert.True(await db.RunEvents.AnyAsync(e => e.RunId == run && e.Kind == RunEventKind.Released), "point 5: no 'released' event: the worker did not hand the run back");
            var lossSteps = await db.MetricPoints.Where(m => m.RunId == run && m.Name == "train_loss").Select(m => m.Step).ToListAsync();
            Assert.True(lossSteps.Any(s => s <= resumed.Step) && lossSteps.Any(s => s > resumed.Step), $"point 5: loss points at steps {string.Join(",", lossSteps)} do not span the resume at {resumed.Step}");
            await AssertNoMetricPointTwiceAsync(db, run, "point 5");
        }
        Timings.Record("the 400-step run with a restart, restart to completed", DateTime.UtcNow - restart);
    }

    [SkippableFact, Step(6)]
    public async Task Point_6_down_and_up_keeping_the_volumes_keeps_runs_metrics_models_the_serving_version_pending_commands_and_the_sign_in()
    {
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        Assert.True(stack.AdminPassword is not null && stack.SignedInState is not null, "point 6 needs point 2's sign-in, which did not happen");
        var before = await SnapshotAsync();

        // A command sent while no worker runs waits in the broker's durable queue, through the restart.
        stack.ComposeOrFail("stop worker", "point 6 (stop worker)");
        var pending = NewId.NextGuid();
        await using (var client = await stack.ClientAsync())
            await client.Bus.Publish(new SubmitTraining(pending, "1.0-SqNxt-23-28px", "fashion-mnist", Settings: new TrainingSettings { MaxSteps = 20, BatchSize = 16, WarmupSteps = 5, PreciseBatchNormBatches = 2, EvalEverySteps = 20, EvalMaxImages = 64 }));
        Assert.True(await QueueDepthAsync("submit-training") == 1, "point 6: the training command is not waiting in the submit-training queue");

        var down = DateTime.UtcNow;
        stack.ComposeOrFail("down", "point 6 (down)");
        Timings.Record("docker-compose down", DateTime.UtcNow - down);
        Assert.Empty(stack.Containers("postgres").Concat(stack.Containers("worker")).Concat(stack.Containers("dashboard")));
        // What stays is the named volumes, and nothing anonymous that a later `down -v` could no longer find. Debian's
        // docker-compose 1.29 makes every volume the file declares, the observability profile's (grafana, prometheus) too.
        var kept = new[] { "artifacts", "dashboard-keys", "data", "grafana", "message-data", "postgres", "prometheus", "rabbitmq" }
            .Select(v => $"{stack.Project}_{v}").ToList();
        Assert.True(kept.SequenceEqual(stack.NewVolumes()),
            $"point 6: after down the volumes are {string.Join(", ", stack.NewVolumes())}, not the named ones {string.Join(", ", kept)}");
        var up = DateTime.UtcNow;
        stack.ComposeOrFail("up -d", "point 6 (up again)");
        await stack.WaitUntilHealthyAsync(HealthyBound, "point 6 (up again)");
        Timings.Record("up -d with the volumes kept until every service is healthy", DateTime.UtcNow - up);

        Assert.Equal(before, await SnapshotAsync(except: pending));
        var pendingRun = (await WaitForRunsAsync([pending], "point 6 (the command sent before down)")).Single();
        Assert.Equal(RunStatus.Completed, pendingRun.Status);

        // The serving version answers without being named, from the model files on the artifacts volume.
        await using (var client = await stack.ClientAsync())
        {
            var answer = await client.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(
                new ClassifyImage(NewId.NextGuid(), await File.ReadAllBytesAsync(TestServices.Fixture("chelsea.png"))));
            Assert.True(answer.Is(out Response<ImageClassified>? classified), "point 6: the serving model did not answer after up");
            Assert.Equal((ServedModel, 1), (classified!.Message.ModelName, classified.Message.ModelVersion));
        }

        // The same admin password signs in, and the cookie from before still does (the DataProtection keys persisted).
        Assert.DoesNotContain("Generated the dashboard password", stack.Logs("dashboard", tail: 1000));
        Skip.If(DashboardBrowser.Unavailable is not null, DashboardBrowser.Unavailable);
        await using var browser = await DashboardBrowser.LaunchAsync(stack.Dashboard);
        var remembered = await browser.NewPageAsync(stack.SignedInState);
        await remembered.GotoAsync($"/runs/{stack.BrowserRun}");
        Assert.True(!remembered.Url.Contains("/login", StringComparison.Ordinal), $"point 6: the sign-in from before down was not kept (at {remembered.Url}): the DataProtection keys were lost");
        await remembered.WaitForSelectorAsync(".status-badge[data-status='completed']");
        var fresh = await browser.SignedInPageAsync(stack.AdminPassword!);
        Assert.DoesNotContain("/login", fresh.Url);
    }

    [SkippableFact, Step(7)]
    public void Point_7_down_with_volumes_leaves_no_container_network_or_volume_behind()
    {
        Skip.If(ComposeStack.Unavailable is not null, ComposeStack.Unavailable);
        var down = DateTime.UtcNow;
        stack.ComposeOrFail("down -v --remove-orphans", "point 7 (down -v)");
        Timings.Record("docker-compose down -v", DateTime.UtcNow - down);
        var left = stack.LeftOver();
        Assert.True(left.Length == 0, $"point 7: down -v left these containers, networks or volumes behind:\n{left}");
    }

    private static async Task SubmitAsync(RecordingBus client, Guid run, long steps, int checkpointEvery)
    {
        var queued = await client.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(new SubmitTraining(run, "1.0-SqNxt-23-28px", "fashion-mnist", Settings: new TrainingSettings { MaxSteps = steps, BatchSize = 16, WarmupSteps = 5, PreciseBatchNormBatches = 2, EvalEverySteps = (int)steps, EvalMaxImages = 64, CheckpointEverySteps = checkpointEvery }));
        Assert.True(queued.Is(out Response<RunQueued>? _), $"run {run} was rejected");
    }

    private async Task<List<Run>> WaitForRunsAsync(IReadOnlyCollection<Guid> runs, string point)
    {
        List<Run> rows = [];
        await Poll.UntilAsync(async () =>
        {
            await using var db = stack.Db();
            rows = await db.Runs.Where(r => runs.Contains(r.Id)).ToListAsync();
            return rows.Count == runs.Count && rows.All(r => r.Status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled);
        }, $"{point}: the runs' ends", RunBound, () => $"{string.Join(", ", rows.Select(r => $"{r.Id} {r.Status} step {r.Step}"))}\n{stack.Logs("worker")}");
        return rows;
    }

    private static async Task AssertNoMetricPointTwiceAsync(Persistence.JobsDbContext db, Guid run, string point)
    {
        var twice = await db.MetricPoints.Where(m => m.RunId == run).GroupBy(m => new { m.Name, m.Step })
            .Where(g => g.Count() > 1).Select(g => g.Key.Name + "@" + g.Key.Step).ToListAsync();
        Assert.True(twice.Count == 0, $"{point}: metric points written twice: {string.Join(", ", twice)}");
        Assert.True(await db.MetricPoints.AnyAsync(m => m.RunId == run), $"{point}: run {run} has no metric points");
    }

    /// <summary>What must survive down and up: runs, metric points, checkpoints, model versions and which one serves.</summary>
    /// <param name="except">A run submitted meanwhile, left out.</param>
    private async Task<string> SnapshotAsync(Guid? except = null)
    {
        await using var db = stack.Db();
        var runs = await db.Runs.Where(r => r.Id != except).OrderBy(r => r.Id).Select(r => $"{r.Id} {r.Status} {r.Step}").ToListAsync();
        var metricPoints = await db.MetricPoints.CountAsync(m => m.RunId != except);
        var checkpoints = await db.Checkpoints.CountAsync(c => c.RunId != except);
        var versions = await db.ModelVersions.OrderBy(v => v.Name).ThenBy(v => v.Version).Select(v => $"{v.Name} v{v.Version}{(v.IsServing ? " serving" : "")}").ToListAsync();
        return $"runs: {string.Join("; ", runs)}\nmetric points: {metricPoints}\ncheckpoints: {checkpoints}\nmodels: {string.Join("; ", versions)}";
    }

    private async Task<int> QueueDepthAsync(string queue)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{stack.ManagementPort}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.ASCII.GetBytes($"{ComposeStack.BrokerUser}:{ComposeStack.BrokerPassword}")));
        // The management API samples queue lengths every few seconds: a message just published may read 0 for a while.
        int depth = 0;
        try
        {
            await Poll.UntilAsync(async () =>
            {
                using var json = JsonDocument.Parse(await http.GetStringAsync($"/api/queues/%2F/{queue}"));
                depth = json.RootElement.TryGetProperty("messages", out var messages) ? messages.GetInt32() : 0;
                return depth > 0;
            }, $"a message in {queue}", TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
        }
        return depth;
    }
}

/// <summary>How long the stack's steps took, for docs/deployment.md: artifacts/test-results/compose-stack-timings.txt.</summary>
internal static class Timings
{
    private static readonly string File = Path.Combine(TestServices.RepositoryRoot, "artifacts", "test-results", "compose-stack-timings.txt");

    public static void Record(string what, TimeSpan took)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(File)!);
        System.IO.File.AppendAllText(File, $"{took.TotalSeconds,7:F1} s  {what}\n");
    }
}
