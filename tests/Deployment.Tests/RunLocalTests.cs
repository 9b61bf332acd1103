using System.Diagnostics;
using System.Net.Sockets;
using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.Deployment.Tests;

/// <summary>
/// The README's first command, as a newcomer runs it: scripts/run-local.sh starts PostgreSQL, RabbitMQ, the worker
/// and the dashboard; a model trains on the demo dataset, is promoted and answers a classify request sent through
/// the broker; Ctrl-C (SIGINT) stops everything.
/// </summary>
[Trait("Level", "processes")]
public sealed class RunLocalTests
{
    [SkippableFact]
    public async Task Run_local_starts_the_system_answers_a_classify_request_through_the_broker_and_stops_cleanly_on_ctrl_c()
    {
        Skip.IfNot(File.Exists(Path.Combine(TestServices.FashionMnist, "train-images-idx3-ubyte.gz")), "dataset-fashion-mnist is not installed");
        var state = Path.Combine(TestServices.RepositoryRoot, "artifacts", "test-run-local");
        if (Directory.Exists(state)) Directory.Delete(state, recursive: true);
        int[] free = FreePorts.Take(6);
        var ports = new { Postgres = free[0], Rabbit = free[1], Management = free[2], Dist = free[3], Worker = free[4], Dashboard = free[5] };
        // A test host started in the background inherits SIGINT ignored, which a shell cannot trap: the script starts with
        // it restored, as it is for a terminal's Ctrl-C.
        var start = new ProcessStartInfo("env")
        {
            WorkingDirectory = TestServices.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--default-signal=INT", "bash", "scripts/run-local.sh" }) start.ArgumentList.Add(argument);
        start.Environment["SQNXT_LOCAL_DIR"] = state;
        start.Environment["SQNXT_LOCAL_NO_BUILD"] = "1";
        start.Environment["SQNXT_PG_PORT"] = ports.Postgres.ToString();
        start.Environment["SQNXT_RABBIT_PORT"] = ports.Rabbit.ToString();
        start.Environment["SQNXT_RABBIT_MANAGEMENT_PORT"] = ports.Management.ToString();
        start.Environment["SQNXT_RABBIT_DIST_PORT"] = ports.Dist.ToString();
        start.Environment["SQNXT_WORKER_PORT"] = ports.Worker.ToString();
        start.Environment["SQNXT_DASHBOARD_PORT"] = ports.Dashboard.ToString();
        start.Environment.Remove("DASHBOARD_ADMIN_PASSWORD");
        var output = new System.Text.StringBuilder();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var script = new Process { StartInfo = start };
        script.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
            if (e.Data.Contains("SqueezeNext.Jobs is running", StringComparison.Ordinal)) running.TrySetResult();
        };
        script.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        script.Start();
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        string Output() { lock (output) return output.ToString(); }

        try
        {
            var started = await Task.WhenAny(running.Task, script.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(6)));
            Assert.True(running.Task.IsCompleted, $"run-local.sh did not report running:\n{Output()}");
            Assert.Contains($"password in {state}/admin-password", Output());
            Assert.True(new FileInfo(Path.Combine(state, "admin-password")).Length > 10);

            using var http = new HttpClient();
            foreach (var port in new[] { ports.Worker, ports.Dashboard })
                Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).StatusCode);
            // The dashboard is a working site: its login page and the script and styles it loads are served.
            var login = await http.GetStringAsync($"http://127.0.0.1:{ports.Dashboard}/login");
            Assert.Contains("sign-in", login);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{ports.Dashboard}/_framework/blazor.web.js")).StatusCode);

            await SignInAndFindTheDemoDatasetAsync(ports.Dashboard, (await File.ReadAllTextAsync(Path.Combine(state, "admin-password"))).Trim(), state);
            await ClassifyRoundTripAsync(ports.Rabbit);
        }
        finally
        {
            // Ctrl-C.
            if (!script.HasExited) Process.Start("kill", ["-INT", script.Id.ToString()])!.WaitForExit();
            var stopped = script.WaitForExit(TimeSpan.FromMinutes(2));
            if (!stopped) script.Kill(entireProcessTree: true);
            Assert.True(stopped, $"run-local.sh did not stop on SIGINT:\n{Output()}");
            // The timed wait returns at the exit, possibly before the last lines of output were handed over; this one
            // waits for the end of the output too (briefly: a daemon the script started may still hold the pipe).
            using var drained = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await script.WaitForExitAsync(drained.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        Assert.Equal(0, script.ExitCode);
        Assert.True(Output().Contains("run-local: stopped", StringComparison.Ordinal), $"no 'run-local: stopped' in:\n{Output()}");
        foreach (var port in new[] { ports.Worker, ports.Dashboard, ports.Postgres, ports.Rabbit })
            Assert.False(Listening(port), $"port {port} still answers after the stop:\n{Output()}");
    }

    /// <summary>Signs in with the password the script generated and finds the demo dataset offered by the new-training form.</summary>
    private static async Task SignInAndFindTheDemoDatasetAsync(int dashboardPort, string password, string state)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = new Uri($"http://127.0.0.1:{dashboardPort}") };
        var login = await http.GetStringAsync("/login");
        var token = System.Text.RegularExpressions.Regex.Match(login, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);

        var signIn = await http.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["username"] = "admin", ["password"] = password, ["returnUrl"] = "/train/new",
        }));
        Assert.EndsWith("/train/new", signIn.RequestMessage!.RequestUri!.AbsolutePath);

        // The worker lists its datasets just after it starts; give it a moment.
        var offered = new System.Text.RegularExpressions.Regex(@"fashion-mnist \([^,]+, 10 classes, 60,000 images\)");
        var form = await signIn.Content.ReadAsStringAsync();
        await Poll.UntilAsync(async () => offered.IsMatch(form) || offered.IsMatch(form = await http.GetStringAsync("/train/new")),
            "fashion-mnist offered on the New training form", TimeSpan.FromSeconds(30));

        // An upload from the pages lands in the data root the worker imports from.
        var antiforgery = System.Text.RegularExpressions.Regex.Match(form, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        using var create = new HttpRequestMessage(HttpMethod.Post, "/uploads/");
        create.Headers.Add("Tus-Resumable", "1.0.0");
        create.Headers.Add("Upload-Length", "10");
        create.Headers.Add("RequestVerificationToken", antiforgery);
        using var created = await http.SendAsync(create);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var upload = created.Headers.Location!.ToString().Split('/')[^1];
        Assert.True(File.Exists(Path.Combine(state, "data", ".uploads", upload + ".part")), $"the upload is not under {state}/data");
    }

    /// <summary>Trains a short run on the demo dataset, registers and promotes it, and classifies a photo, all through the broker.</summary>
    private static async Task ClassifyRoundTripAsync(int rabbitPort)
    {
        var completed = new TaskCompletionSource<RunCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failed = new TaskCompletionSource<RunFailed>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host("127.0.0.1", (ushort)rabbitPort, "/", host => { host.Username("guest"); host.Password("guest"); });
            rabbit.ReceiveEndpoint($"run-local-test-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Handler<RunCompleted>(context => { completed.TrySetResult(context.Message); return Task.CompletedTask; });
                endpoint.Handler<RunFailed>(context => { failed.TrySetResult(context.Message); return Task.CompletedTask; });
            });
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        try
        {
            var runId = NewId.NextGuid();
            var queued = await bus.CreateRequestClient<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(new SubmitTraining(runId, "1.0-SqNxt-23-28px", "fashion-mnist", Settings: new TrainingSettings { MaxSteps = 20, BatchSize = 16, WarmupSteps = 5, PreciseBatchNormBatches = 2, EvalEverySteps = 20, EvalMaxImages = 64, CheckpointEverySteps = 20 }));
            Assert.True(queued.Is(out Response<RunQueued>? _), "the training run was rejected");
            var finished = await Task.WhenAny(completed.Task, failed.Task, Task.Delay(TimeSpan.FromMinutes(5)));
            Assert.True(finished == completed.Task, failed.Task.IsCompleted ? $"the run failed: {failed.Task.Result.Reason}" : "the run did not complete in 5 minutes");

            var registered = await bus.CreateRequestClient<RegisterModel>().GetResponse<ModelRegistered, CommandRejected>(new RegisterModel(NewId.NextGuid(), "demo", runId));
            Assert.True(registered.Is(out Response<ModelRegistered>? model), "register was rejected");
            var promoted = await bus.CreateRequestClient<PromoteModel>().GetResponse<ModelPromoted, CommandRejected>(new PromoteModel(NewId.NextGuid(), "demo", model!.Message.Version));
            Assert.True(promoted.Is(out Response<ModelPromoted>? _), "promote was rejected");

            var image = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "chelsea.png"));
            var answer = await bus.CreateRequestClient<ClassifyImage>(RequestTimeout.After(s: 60))
                .GetResponse<ImageClassified, ClassificationRejected>(new ClassifyImage(NewId.NextGuid(), image, Top: 5, ModelName: "demo"));
            Assert.True(answer.Is(out Response<ImageClassified>? classified), "the image was rejected");
            Assert.Equal(5, classified!.Message.Predictions.Count);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
