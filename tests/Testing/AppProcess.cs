using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SqueezeNext.Testing;

/// <summary>
/// A real application process (the worker or the dashboard), started from its own project's build output (the
/// same configuration as the tests) and configured through environment variables.
/// </summary>
public sealed class AppProcess : IDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    /// <param name="launcher">A program (and its arguments) that runs <c>dotnet</c> for it, such as strace.</param>
    public AppProcess(string project, string assembly, IReadOnlyDictionary<string, string> settings, string logPath, IReadOnlyList<string>? launcher = null)
    {
        Port = FreePorts.Take(1)[0];
        var folder = TestServices.ProjectOutput(project);
        Folder = folder;
        var start = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : "dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (launcher is { Count: > 0 })
        {
            foreach (var argument in launcher.Skip(1)) start.ArgumentList.Add(argument);
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(Path.Combine(folder, assembly));
        start.Environment["Urls"] = $"http://127.0.0.1:{Port}";
        foreach (var (key, value) in settings) start.Environment[key] = value;
        LogPath = logPath;
        log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>The build output the process runs from (its working directory).</summary>
    public string Folder { get; }
    public string LogPath { get; }
    public int Id => process.Id;
    public bool HasExited => process.HasExited;
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The process's resident memory now (VmRSS), in MB.</summary>
    public long ResidentMegabytes
    {
        get
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
            return 0;
        }
    }

    /// <summary>Waits until /health/ready answers 200 (the bus is connected and migrations ran).</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Poll.UntilAsync(async () =>
        {
            if (process.HasExited)
                throw new InvalidOperationException($"the process exited with {process.ExitCode}; log: {ReadLogAfterExit()}");
            try
            {
                return (await http.GetAsync(new Uri(BaseAddress, "/health/ready"))).IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, "the process's readiness", timeout, ReadLog);
    }

    /// <summary>Waits until the process writes a line containing <paramref name="text"/> to its output.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        Poll.UntilAsync(() =>
        {
            lock (log)
            {
                using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
                if (reader.ReadToEnd().Contains(text, StringComparison.Ordinal)) return Task.FromResult(true);
            }
            if (process.HasExited)
                throw new InvalidOperationException($"the process exited with {process.ExitCode} before writing '{text}'; log: {ReadLogAfterExit()}");
            return Task.FromResult(false);
        }, $"the line '{text}' in the process's output", timeout, ReadLog);

    /// <summary>SIGKILL: no shutdown code runs, exactly as if the machine lost power.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    /// <summary>SIGSTOP: the process is frozen where it is, its sockets open, as a VM paused or a process stuck in a long GC.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT: a paused process goes on from where it was.</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()])!;
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {process.Id} failed");
    }

    /// <summary>SIGTERM and wait: a worker checkpoints and hands its run back.</summary>
    public bool Stop(TimeSpan timeout)
    {
        if (process.HasExited) return true;
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        return process.WaitForExit((int)timeout.TotalMilliseconds);
    }

    public string ReadLog()
    {
        lock (log)
        {
            using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            var text = reader.ReadToEnd();
            return text.Length > 6000 ? text[^6000..] : text;
        }
    }

    /// <summary>
    /// HasExited turns true before the redirected output is drained; the parameterless WaitForExit waits for the
    /// asynchronous readers to reach end of stream, so the log holds the process's last lines.
    /// </summary>
    private string ReadLogAfterExit()
    {
        process.WaitForExit();
        return ReadLog();
    }

    public void Dispose()
    {
        Kill();
        process.Dispose();
        lock (log) log.Dispose();
    }
}
