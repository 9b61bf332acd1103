using System.Security.Cryptography;
using System.Text.Json;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>
/// Every remote command of sqnxt against a running dashboard and worker, each with a token of the role it needs:
/// submit train/eval/register, runs list/show/wait/logs/metrics/cancel/resume, models list/versions/download/promote,
/// and classify, each read back through --json.
/// </summary>
[Trait("Level", "processes")]
public sealed class SqnxtRemoteTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private ApiAccounts accounts = null!;
    private string folder = null!;
    private bool hasFashionMnist;

    public async Task InitializeAsync()
    {
        folder = Directory.CreateTempSubdirectory("sqnxt-remote-").FullName;
        system = await JobSystem.CreateAsync();
        hasFashionMnist = system.AddFashionMnist();
        await system.StartWorkerAsync();
        dashboard = await system.StartDashboardAsync("remote-test-password");
        accounts = new ApiAccounts(system, dashboard.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await system.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    [SkippableFact]
    public async Task The_remote_commands_train_register_promote_serve_download_and_control_runs()
    {
        Skip.IfNot(hasFashionMnist, "Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)");
        var viewer = await accounts.TokenAsync("vic", AccountRole.Viewer);
        var operatorToken = await accounts.TokenAsync("olga", AccountRole.Operator);
        var admin = await accounts.TokenAsync("ada", AccountRole.Admin);
        await WaitForDatasetAsync(viewer);

        // A viewer may read but not submit, and says why in one line.
        var refused = Sqnxt(viewer, "submit", "train", "-c", "1.0-SqNxt-23-28px", "-d", "fashion-mnist", "--steps", "10");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("sqnxt: error:", refused.Error);
        Assert.Contains("operator", refused.Error);

        var queued = Json(Sqnxt(operatorToken, "submit", "train", "-c", "1.0-SqNxt-23-28px", "-d", "fashion-mnist", "--name", "cli run", "--steps", "40",
            "-b", "32", "--warmup-steps", "5", "--precise-bn", "2", "--eval-every", "40", "--eval-images", "200", "--checkpoint-every", "40",
            "--seed", "7", "--json"));
        var runId = queued.GetProperty("runId").GetGuid();
        Assert.False(queued.GetProperty("duplicate").GetBoolean());

        var finished = Json(Sqnxt(viewer, "runs", "wait", runId.ToString(), "--timeout", "480", "--json"));
        Assert.Equal("completed", finished.GetProperty("status").GetString());
        var shown = Json(Sqnxt(viewer, "runs", "show", runId.ToString(), "--json"));
        Assert.Equal(40, shown.GetProperty("run").GetProperty("step").GetInt64());
        Assert.Contains("status        completed", Ok(Sqnxt(viewer, "runs", "show", runId.ToString())));
        var listed = Json(Sqnxt(viewer, "runs", "list", "--status", "completed", "--json"));
        Assert.Equal(runId, listed.GetProperty("items")[0].GetProperty("id").GetGuid());

        var events = Ok(Sqnxt(viewer, "runs", "logs", runId.ToString(), "--json")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal("completed", events[^1].GetProperty("kind").GetString());
        var csv = Ok(Sqnxt(viewer, "runs", "metrics", runId.ToString(), "--csv", "--name", "train_loss")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("name,step,epoch,time,value", csv[0]);
        Assert.All(csv[1..], row => Assert.StartsWith("train_loss,", row));
        Assert.NotEmpty(csv[1..]);

        var registered = Json(Sqnxt(admin, "submit", "register", "--run", runId.ToString(), "--name", "fashion-cli", "--json"));
        Assert.Equal(1, registered.GetProperty("version").GetInt32());
        Assert.Contains("fashion-cli v1 is serving", Ok(Sqnxt(admin, "models", "promote", "fashion-cli", "1")));
        var models = Json(Sqnxt(viewer, "models", "list", "--json"));
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("name").GetString() == "fashion-cli" && m.GetProperty("servingVersion").GetInt32() == 1);
        Assert.True(Json(Sqnxt(viewer, "models", "versions", "fashion-cli", "--json"))[0].GetProperty("serving").GetBoolean());

        // Several images: one JSON answer per line, each naming its file.
        var answers = Ok(Sqnxt(operatorToken, "classify", TestServices.Fixture("chelsea.png"), TestServices.Fixture("coffee.png"), "-m", "fashion-cli", "-k", "3", "--json"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(2, answers.Count);
        Assert.All(answers, a => Assert.Equal(3, a.GetProperty("predictions").GetArrayLength()));
        Assert.EndsWith("coffee.png", answers[1].GetProperty("file").GetString());

        var onnxPath = Path.Combine(folder, "fashion.onnx");
        var downloaded = Json(Sqnxt(viewer, "models", "download", "fashion-cli", "1", "--format", "onnx", "-o", onnxPath, "--json"));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(onnxPath))), downloaded.GetProperty("sha256").GetString());

        var evaluation = Json(Sqnxt(operatorToken, "submit", "eval", "-d", "fashion-mnist", "-m", "fashion-cli", "--max-images", "100", "--json"));
        Assert.Equal("evaluation", evaluation.GetProperty("kind").GetString());
        Assert.Equal("completed", Json(Sqnxt(viewer, "runs", "wait", evaluation.GetProperty("runId").GetString()!, "--timeout", "300", "--json")).GetProperty("status").GetString());

        // A long run, cancelled: wait reports it (exit 1), resume queues it again, and a second cancel stops it for good.
        var longRun = Json(Sqnxt(operatorToken, "submit", "train", "-c", "1.0-SqNxt-23-28px", "-d", "fashion-mnist", "--steps", "100000", "-b", "16", "--json")).GetProperty("runId").GetString()!;
        Assert.Contains($"cancel of run {longRun} sent", Ok(Sqnxt(operatorToken, "runs", "cancel", longRun, "--reason", "test")));
        var waited = Sqnxt(viewer, "runs", "wait", longRun, "--timeout", "300");
        Assert.True(waited.ExitCode == 1, waited.Output + waited.Error);
        Assert.Contains($"run {longRun} cancelled", waited.Output);
        var resumed = Json(Sqnxt(operatorToken, "runs", "resume", longRun, "--json"));
        Assert.Equal(longRun, resumed.GetProperty("runId").GetString());
        Ok(Sqnxt(operatorToken, "runs", "cancel", longRun));
        Assert.Equal(1, Sqnxt(viewer, "runs", "wait", longRun, "--timeout", "300").ExitCode);
    }

    private Task WaitForDatasetAsync(string token) =>
        system.WaitUntilAsync(async () => (await DatasetsAsync(token)).Contains("fashion-mnist"), "the worker's list of its datasets");

    private async Task<string> DatasetsAsync(string token)
    {
        using var client = accounts.Client(token);
        return await client.GetStringAsync("/api/v1/datasets");
    }

    /// <summary>The built sqnxt with the dashboard's address and a token given as options, as a script would.</summary>
    private (int ExitCode, string Output, string Error) Sqnxt(string token, params string[] args)
    {
        var arguments = string.Join(" ", args.Select(Quote)) + $" --url {dashboard.BaseAddress} --token {token}";
        // No saved login: the options alone must do.
        var environment = new Dictionary<string, string> { ["SQNXT_CONFIG_DIR"] = Path.Combine(folder, "config") };
        return ExternalProcess.Capture("dotnet", $"{Quote(Path.Combine(TestServices.ProjectOutput("Cli"), "sqnxt.dll"))} {arguments}", folder,
            TimeSpan.FromMinutes(9), environment);
    }

    private static string Quote(string argument) => argument.Contains(' ') ? $"\"{argument}\"" : argument;

    private static string Ok((int ExitCode, string Output, string Error) result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}{result.Output}");
        return result.Output;
    }

    private static JsonElement Json((int ExitCode, string Output, string Error) result) => JsonDocument.Parse(Ok(result)).RootElement;
}
