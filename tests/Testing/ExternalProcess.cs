using System.Diagnostics;

namespace SqueezeNext.Testing;

/// <summary>
/// Runs a program to completion and returns its exit code and output (git, docker-compose, the PyTorch reference
/// script, sqnxt). Linked into Vision.Tests as source, which does not reference this project.
/// </summary>
public static class ExternalProcess
{
    /// <summary>The exit code, and standard output followed by standard error.</summary>
    public static (int ExitCode, string Output) Run(string program, string arguments, string? workingDirectory = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var (exitCode, output, error) = Capture(program, arguments, workingDirectory, timeout, environment);
        return (exitCode, output + error);
    }

    /// <summary>The exit code, standard output and standard error apart (for a program whose output is JSON).</summary>
    public static (int ExitCode, string Output, string Error) Capture(string program, string arguments, string? workingDirectory = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {arguments} did not finish within {timeout ?? TimeSpan.FromMinutes(3)}");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
