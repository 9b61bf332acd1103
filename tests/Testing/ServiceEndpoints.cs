using System.Diagnostics;
using System.Net.Sockets;

namespace SqueezeNext.Testing;

/// <summary>Where a PostgreSQL and a RabbitMQ are: the shared test services, or a private pair for fault tests.</summary>
public sealed record ServiceEndpoints(string Host, int PostgresPort, int RabbitPort, int RabbitManagementPort, string RabbitUser, string RabbitPassword)
{
    /// <summary>The services scripts/test.sh started for the whole run.</summary>
    public static ServiceEndpoints Shared => new(TestServices.PostgresHost, TestServices.PostgresPort, TestServices.RabbitPort,
        TestServices.RabbitManagementPort, TestServices.RabbitUser, TestServices.RabbitPassword);
}

/// <summary>
/// A PostgreSQL cluster and a RabbitMQ node of their own (scripts/services.sh on free ports), which a test may stop and
/// start again without disturbing the tests that share the run's services.
/// </summary>
public sealed class PrivateServices : IDisposable
{
    private readonly string directory = Path.Combine(TestServices.RepositoryRoot, "artifacts", "test-private-services", Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, string> environment;

    private PrivateServices()
    {
        int[] ports = FreePorts.Take(4);
        Endpoints = new ServiceEndpoints("127.0.0.1", ports[0], ports[1], ports[2], "guest", "guest");
        environment = new()
        {
            ["SQNXT_SERVICES_DIR"] = directory,
            ["SQNXT_PG_PORT"] = Endpoints.PostgresPort.ToString(),
            ["SQNXT_RABBIT_PORT"] = Endpoints.RabbitPort.ToString(),
            ["SQNXT_RABBIT_MANAGEMENT_PORT"] = Endpoints.RabbitManagementPort.ToString(),
            ["SQNXT_RABBIT_DIST_PORT"] = ports[3].ToString(),
        };
    }

    public ServiceEndpoints Endpoints { get; }

    public static PrivateServices Start()
    {
        var services = new PrivateServices();
        services.Run("start");
        return services;
    }

    /// <summary>Starts whichever of the two is stopped.</summary>
    public void StartStopped() => Run("start");

    public void StopPostgres() => Run("stop-postgres");

    public void StopRabbitMq() => Run("stop-rabbitmq");

    public void Dispose()
    {
        try
        {
            Run("stop");
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
        }
    }

    private void Run(string command)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestServices.RepositoryRoot, "scripts", "services.sh"), command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)) || process.ExitCode != 0)
            throw new InvalidOperationException($"services.sh {command} failed: {output.Result}{error.Result}");
    }

}
