using System.Text.Json;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>
/// sqnxt as a .NET tool: packed from this clone, installed with `dotnet tool install`, signed in with an API token, and
/// reading the running system with `sqnxt runs list --json`.
/// </summary>
[Trait("Level", "processes")]
public sealed class SqnxtToolTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private string folder = null!;

    public async Task InitializeAsync()
    {
        folder = Directory.CreateTempSubdirectory("sqnxt-tool-").FullName;
        system = await JobSystem.CreateAsync();
        dashboard = await system.StartDashboardAsync("tool-test-password");
    }

    public async Task DisposeAsync()
    {
        await system.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task The_packed_tool_installs_signs_in_and_lists_the_runs_as_json()
    {
        var packages = Path.Combine(folder, "packages");
        var (packed, packOutput) = ExternalProcess.Run("dotnet", $"pack Cli -c Release --no-restore -o \"{packages}\"", TestServices.RepositoryRoot, TimeSpan.FromMinutes(10));
        Assert.True(packed == 0, packOutput);
        var tools = Path.Combine(folder, "tools");
        var (installed, installOutput) = ExternalProcess.Run("dotnet", $"tool install --tool-path \"{tools}\" --add-source \"{packages}\" SqueezeNext.Cli",
            folder, TimeSpan.FromMinutes(10));
        Assert.True(installed == 0, installOutput);

        var runId = Guid.NewGuid();
        await using (var db = system.Db())
        {
            db.Runs.Add(new Run { Id = runId, Kind = RunKind.Training, Status = RunStatus.Queued, Name = "listed by the tool", ConfigurationName = "1.0-SqNxt-23-28px",
                Dataset = "fashion-mnist", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        var token = await new ApiAccounts(system, dashboard.BaseAddress).TokenAsync("tool-user", AccountRole.Viewer);
        var environment = new Dictionary<string, string> { ["SQNXT_CONFIG_DIR"] = Path.Combine(folder, "config") };
        var sqnxt = Path.Combine(tools, "sqnxt");

        var (login, loginOutput) = ExternalProcess.Run(sqnxt, $"login {dashboard.BaseAddress} --token {token}", folder, TimeSpan.FromMinutes(2), environment);
        Assert.True(login == 0, loginOutput);
        Assert.Contains("as tool-user (viewer)", loginOutput);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "config", "credentials.json")));

        var (listed, listOutput) = ExternalProcess.Run(sqnxt, "runs list --json", folder, TimeSpan.FromMinutes(2), environment);
        Assert.True(listed == 0, listOutput);
        using var page = JsonDocument.Parse(listOutput);
        Assert.Equal(1, page.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(runId, page.RootElement.GetProperty("items")[0].GetProperty("id").GetGuid());
    }
}
