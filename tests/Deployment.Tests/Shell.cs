using System.Diagnostics;
using SqueezeNext.Testing;

namespace SqueezeNext.Deployment.Tests;

/// <summary>Runs a program in the repository root and returns its exit code and combined output.</summary>
internal static class Shell
{
    public static (int ExitCode, string Output) Run(string program, string arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = TestServices.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {arguments} did not finish");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
