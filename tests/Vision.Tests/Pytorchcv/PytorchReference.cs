using SqueezeNext.Testing;

namespace SqueezeNext.Vision.Tests.Pytorchcv;

/// <summary>
/// Runs pytorchcv_reference.py (Debian's python3-torch) once per configuration and keeps its state dicts and logits
/// for the test run. <see cref="Unavailable"/> says why when PyTorch cannot be run here.
/// </summary>
public sealed class PytorchReference : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private readonly TemporaryDirectory directory = new();
    private readonly Dictionary<string, Task<string>> made = [];

    public PytorchReference()
    {
        if (!File.Exists(Python)) Unavailable = $"{Python} is not installed";
        else if (Run("-c \"import torch\"") is { ExitCode: not 0 } probe)
            Unavailable = $"PyTorch cannot be imported by {Python} (scripts/test.sh installs Debian's python3-torch): {probe.Output.Trim()}";
    }

    public string? Unavailable { get; }

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Pytorchcv", "pytorchcv_reference.py");

    /// <summary>The folder holding &lt;config&gt;.pth and &lt;config&gt;.io.pth, made on first use.</summary>
    public Task<string> ForAsync(string configuration)
    {
        lock (made)
        {
            if (!made.TryGetValue(configuration, out var task))
            {
                task = Task.Run(() =>
                {
                    var result = Run($"\"{Script}\" {configuration} \"{directory.Path}\"");
                    if (result.ExitCode != 0) throw new InvalidOperationException($"pytorchcv_reference.py {configuration} failed:\n{result.Output}");
                    return directory.Path;
                });
                made[configuration] = task;
            }
            return task;
        }
    }

    private static (int ExitCode, string Output) Run(string arguments) => ExternalProcess.Run(Python, arguments);

    public void Dispose() => directory.Dispose();
}
