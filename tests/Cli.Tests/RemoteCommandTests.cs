using System.Net;
using System.Net.Sockets;

namespace SqueezeNext.Cli.Tests;

/// <summary>The remote commands' own refusals, before and without a dashboard: each one line naming the problem.</summary>
[Trait("Level", "processes")]
public sealed class RemoteCommandTests : IDisposable
{
    private readonly string configFolder = Directory.CreateTempSubdirectory("sqnxt-config-").FullName;

    public void Dispose() => Directory.Delete(configFolder, recursive: true);

    private Dictionary<string, string> NoLogin() => new() { ["SQNXT_CONFIG_DIR"] = configFolder, ["SQNXT_URL"] = "", ["SQNXT_TOKEN"] = "" };

    [Theory]
    [InlineData("runs", "list")]
    [InlineData("models", "list")]
    [InlineData("submit", "eval", "-d", "fashion-mnist", "-m", "fashion")]
    public void Without_a_login_a_remote_command_says_how_to_sign_in(params string[] args)
    {
        var result = Sqnxt.Run(TimeSpan.FromMinutes(2), NoLogin(), args);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("sqnxt: error: not signed in: run 'sqnxt login URL'", result.Error);
    }

    [Fact]
    public void A_dashboard_that_does_not_answer_is_named_with_its_address()
    {
        // A port nothing listens on: bound, then released.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = Sqnxt.Run(TimeSpan.FromMinutes(2), NoLogin(), "runs", "list", "--url", $"http://127.0.0.1:{port}", "--token", "sqnxt_x");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"sqnxt: error: cannot reach the dashboard at http://127.0.0.1:{port}/", result.Error);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void An_address_that_is_not_http_is_refused()
    {
        var result = Sqnxt.Run(TimeSpan.FromMinutes(2), NoLogin(), "models", "list", "--url", "ftp://example.org", "--token", "sqnxt_x");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'ftp://example.org' is not an http(s) address of a SqueezeNext.Jobs dashboard", result.Error);
    }

    [Fact]
    public void An_evaluation_needs_exactly_one_of_model_and_run()
    {
        var both = Sqnxt.Run(TimeSpan.FromMinutes(2), NoLogin(), "submit", "eval", "-d", "x", "-m", "fashion", "--run", Guid.NewGuid().ToString());
        var neither = Sqnxt.Run(TimeSpan.FromMinutes(2), NoLogin(), "submit", "eval", "-d", "x");

        Assert.Contains("sqnxt: error: give either --model or --run", both.Error);
        Assert.Contains("sqnxt: error: give either --model or --run", neither.Error);
    }
}
