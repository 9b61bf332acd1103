using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace SqueezeNext.ServiceDefaults.Hosting;

/// <summary>Runs a host, and refuses to start when a setting is missing or out of range.</summary>
public static class ServiceHost
{
    /// <summary>The exit code of a host that refused its settings.</summary>
    public const int InvalidSettingsExitCode = 2;

    /// <summary>
    /// Builds the host with <paramref name="addServices"/>, readies it with <paramref name="prepare"/> (endpoints,
    /// migrations) and runs it until it is stopped. A setting that fails validation is the operator's to fix, so it
    /// ends the process with one line naming each problem rather than an unhandled-exception abort.
    /// </summary>
    public static async Task<int> RunAsync(string name, string[] args, Action<WebApplicationBuilder> addServices, Func<WebApplication, Task> prepare)
    {
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            addServices(builder);
            var app = builder.Build();
            await prepare(app);
            await app.RunAsync();
            return 0;
        }
        catch (Exception e) when (e.GetBaseException() is OptionsValidationException invalid)
        {
            Console.Error.WriteLine($"{name}: refusing to start: {string.Join("; ", invalid.Failures)}");
            return InvalidSettingsExitCode;
        }
    }
}
