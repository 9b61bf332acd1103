using System.Diagnostics;

namespace SqueezeNext.Cli.Tests;

/// <summary>Runs the built <c>sqnxt</c> as a separate process, as a user would, and captures what it prints.</summary>
public static class Sqnxt
{
    /// <param name="PeakResidentBytes">The process's peak resident memory (VmHWM), read until it exited.</param>
    public sealed record Result(int ExitCode, string Output, string Error, long PeakResidentBytes);

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(2), args);

    /// <summary>Runs sqnxt and checks that it failed as a user should see it: exit 1 and one line naming the problem, no stack trace.</summary>
    public static void FailsWithOneLine(string expected, params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 1, $"{string.Join(' ', args)}: exit {result.ExitCode}, {result.Error}");
        Assert.Contains(expected, result.Error);
        Assert.StartsWith("sqnxt: error:", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
    }

    public static Result Run(TimeSpan timeout, params string[] args) => Run(timeout, new Dictionary<string, string>(), args);

    /// <param name="environment">Variables set for this run of sqnxt only.</param>
    public static Result Run(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
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
        foreach (var (name, value) in environment) start.Environment[name] = value;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        long peak = 0;
        var deadline = DateTime.UtcNow + timeout;
        // VmHWM is a high-water mark, so the last reading before exit holds the peak.
        while (!process.WaitForExit(20))
        {
            peak = Math.Max(peak, ReadPeakResident(process.Id));
            if (DateTime.UtcNow > deadline)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"sqnxt {string.Join(' ', args)} did not finish within {timeout}");
            }
        }
        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, error.Result, peak);
    }

    private static long ReadPeakResident(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var kilobytes = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return 0;
    }
}
