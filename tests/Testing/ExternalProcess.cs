using System.Diagnostics;

namespace SqueezeNext.Testing;

/// <summary>
/// Runs a program to completion and returns its exit code and combined output (git, docker-compose, the PyTorch
/// reference script). Linked into Vision.Tests as source, which does not reference this project.
/// </summary>
public static class ExternalProcess
{
    public static (int ExitCode, string Output) Run(string program, string arguments, string? workingDirectory = null, TimeSpan? timeout = null,
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
        return (process.ExitCode, output.Result + error.Result);
    }
}
