using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence;

namespace SqueezeNext.Deployment.Tests.ComposeStack;

/// <summary>
/// The committed compose.yaml, run by Debian's docker-compose as a user runs it, under a project name and image tag of
/// the test's own (scripts/compose-test.sh builds the images and sets both) and on free host ports. The stack tests
/// share it in order; disposing it removes its containers, networks and volumes.
/// </summary>
public sealed class ComposeStack : IAsyncLifetime
{
    public const string DatabaseUser = "sqnxt";
    public const string DatabasePassword = "sqnxt";
    public const string BrokerUser = "sqnxt";
    public const string BrokerPassword = "sqnxt";
    public static readonly string[] LongRunning = ["postgres", "rabbitmq", "worker", "dashboard"];

    private readonly string emptyEnvFile = Path.GetTempFileName();
    /// <summary>Every volume on the engine before the stack test, anonymous ones included.</summary>
    private readonly HashSet<string> volumesBefore = Volumes();

    public ComposeStack()
    {
        Project = Environment.GetEnvironmentVariable("SQNXT_COMPOSE_PROJECT") ?? "";
        int[] ports = FreePorts.Take(3);
        (DashboardPort, BrokerPort, ManagementPort) = (ports[0], ports[1], ports[2]);
    }

    /// <summary>Why the stack tests cannot run in this test run, or null when scripts/compose-test.sh started them.</summary>
    public static string? Unavailable => Environment.GetEnvironmentVariable("SQNXT_COMPOSE_PROJECT") is { Length: > 0 }
        ? null
        : "the compose stack test runs from scripts/compose-test.sh, which builds the images and sets SQNXT_COMPOSE_PROJECT";

    public string Project { get; }
    public int DashboardPort { get; }
    public int BrokerPort { get; }
    public int ManagementPort { get; }
    public Uri Dashboard => new($"http://127.0.0.1:{DashboardPort}");

    /// <summary>Facts one step leaves for the next (the stack tests run in order).</summary>
    public string? AdminPassword { get; set; }
    public Guid? BrowserRun { get; set; }
    /// <summary>The signed-in browser's cookies (Playwright storage state) from before the stack went down.</summary>
    public string? SignedInState { get; set; }

    /// <summary>What docker-compose sees: the committed file, no .env (a developer's would change it), the test's ports.</summary>
    private Dictionary<string, string> ComposeEnvironment() => new()
    {
        ["COMPOSE_PROJECT_NAME"] = Project,
        ["SQNXT_TAG"] = Environment.GetEnvironmentVariable("SQNXT_TAG") is { Length: > 0 } tag ? tag : "latest",
        ["DASHBOARD_PORT"] = DashboardPort.ToString(),
        ["RABBITMQ_PORT"] = BrokerPort.ToString(),
        ["RABBITMQ_MANAGEMENT_PORT"] = ManagementPort.ToString(),
        // The dashboard generates its password and prints it once, as for a user who leaves it unset.
        ["DASHBOARD_ADMIN_PASSWORD"] = "",
        ["POSTGRES_USER"] = DatabaseUser,
        ["POSTGRES_PASSWORD"] = DatabasePassword,
        ["RABBITMQ_USER"] = BrokerUser,
        ["RABBITMQ_PASSWORD"] = BrokerPassword,
    };

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Runs docker-compose on the committed file; returns the exit code and output.</summary>
    public (int ExitCode, string Output) Compose(string arguments, TimeSpan? timeout = null) =>
        ExternalProcess.Run("docker-compose", $"--env-file {emptyEnvFile} -f compose.yaml {arguments}", TestServices.RepositoryRoot,
            timeout ?? TimeSpan.FromMinutes(5), ComposeEnvironment());

    /// <summary>Runs docker-compose and fails, naming <paramref name="point"/>, unless it succeeds.</summary>
    public string ComposeOrFail(string arguments, string point, TimeSpan? timeout = null)
    {
        var (exitCode, output) = Compose(arguments, timeout);
        Assert.True(exitCode == 0, $"{point}: docker-compose {arguments} exited with {exitCode}:\n{output}");
        return output;
    }

    public static (int ExitCode, string Output) Docker(string arguments) => ExternalProcess.Run("docker", arguments, timeout: TimeSpan.FromMinutes(2));

    /// <summary>The ids of a service's containers (one per replica), running or not.</summary>
    public IReadOnlyList<string> Containers(string service) =>
        Compose($"ps -q {service}").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(id => id.Length >= 12 && id.All(char.IsAsciiHexDigitLower)).ToList();

    /// <summary>docker inspect of one container.</summary>
    public static JsonElement Inspect(string container)
    {
        var (exitCode, output) = Docker($"inspect {container}");
        Assert.True(exitCode == 0, output);
        using var json = JsonDocument.Parse(output);
        return json.RootElement[0].Clone();
    }

    /// <summary>"healthy", "starting", "unhealthy", "no healthcheck", "exited 0", ...: what a container is now.</summary>
    public static string State(string container)
    {
        var state = Inspect(container).GetProperty("State");
        var status = state.GetProperty("Status").GetString();
        if (status == "exited") return $"exited {state.GetProperty("ExitCode").GetInt32()}";
        if (status != "running") return status ?? "unknown";
        return state.TryGetProperty("Health", out var health) ? health.GetProperty("Status").GetString()! : "running, no healthcheck";
    }

    /// <summary>
    /// Waits until postgres, rabbitmq, the dashboard and <paramref name="workers"/> workers are healthy and demo-data
    /// has exited 0; returns how long it took. Fails, naming <paramref name="point"/> and each service's state, after
    /// <paramref name="bound"/>.
    /// </summary>
    public async Task<TimeSpan> WaitUntilHealthyAsync(TimeSpan bound, string point, int workers = 1)
    {
        var started = DateTime.UtcNow;
        string report = "";
        await Poll.UntilAsync(() =>
        {
            var states = LongRunning.SelectMany(service => Containers(service).Select(id => (service, id, state: State(id)))).ToList();
            var demo = Containers("demo-data").Select(State).ToList();
            report = string.Join("\n", states.Select(s => $"  {s.service} {s.id[..12]}: {s.state}").Append($"  demo-data: {string.Join(", ", demo)}"));
            // A service without a healthcheck will never report healthy: say so now rather than at the bound.
            if (states.Any(s => s.state.EndsWith("no healthcheck", StringComparison.Ordinal)))
                Assert.Fail($"{point}: a service has no healthcheck:\n{report}");
            return Task.FromResult(LongRunning.All(service => states.Count(s => s.service == service && s.state == "healthy") == (service == "worker" ? workers : 1))
                && demo is ["exited 0"]);
        }, $"{point}: every service healthy", bound, () => $"{report}\n{Logs(tail: 40)}");
        return DateTime.UtcNow - started;
    }

    /// <summary>Everything one container wrote to its output.</summary>
    public static string ContainerLog(string container) => Docker($"logs {container}").Output;

    public string Logs(string service = "", int tail = 200) => Compose($"logs --no-color --tail {tail} {service}").Output;

    /// <summary>The stack's database, reached at the postgres container's address on the compose network.</summary>
    public JobsDbContext Db()
    {
        var postgres = Containers("postgres").Single();
        var address = Inspect(postgres).GetProperty("NetworkSettings").GetProperty("Networks").EnumerateObject().First().Value.GetProperty("IPAddress").GetString();
        return new JobsDbContext(new DbContextOptionsBuilder<JobsDbContext>()
            .UseNpgsql($"Host={address};Port=5432;Username={DatabaseUser};Password={DatabasePassword};Database=sqnxt;Pooling=false").Options);
    }

    /// <summary>A client bus on the broker port that compose publishes on 127.0.0.1.</summary>
    public Task<RecordingBus> ClientAsync() => RecordingBus.StartAsync("127.0.0.1", BrokerPort, "/", BrokerUser, BrokerPassword);

    /// <summary>Containers and networks of this compose project that still exist, and volumes the test run added, one a line.</summary>
    public string LeftOver()
    {
        var filter = $"--filter label=com.docker.compose.project={Project}";
        var left = new[] { $"ps -a -q {filter}", $"network ls -q {filter}" }.Select(arguments => Docker(arguments).Output.Trim());
        return string.Join("\n", left.Concat(NewVolumes()).Where(line => line.Length > 0));
    }

    /// <summary>Volumes made since the stack test started, anonymous ones included.</summary>
    public IReadOnlyList<string> NewVolumes() => Volumes().Except(volumesBefore).Order(StringComparer.Ordinal).ToList();

    private static HashSet<string> Volumes() =>
        Docker("volume ls -q").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();

    public Task DisposeAsync()
    {
        if (Unavailable is null) Compose("down -v --remove-orphans --timeout 30");
        File.Delete(emptyEnvFile);
        return Task.CompletedTask;
    }
}
