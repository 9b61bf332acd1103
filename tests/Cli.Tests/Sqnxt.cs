using System.Diagnostics;

namespace SqueezeNext.Cli.Tests;

/// <summary>Runs the built <c>sqnxt</c> as a separate process, as a user would, and captures what it prints.</summary>
public static class Sqnxt
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(2), args);

    public static Result Run(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sqnxt.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sqnxt {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}
