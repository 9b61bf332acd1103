using System.Collections.Concurrent;
using System.Globalization;

namespace SqueezeNext.Vision.Runtime;

/// <summary>
/// Named places in the code where a crash test can freeze the process so that it is killed exactly there: in the
/// middle of a training step, between writing a checkpoint's files and renaming it into place, after a flush is written. They are armed only by the <see cref="EnvironmentVariable"/> of the process, as
/// a comma-separated list of <c>name@N</c> (freeze the N-th time the point is reached; <c>name</c> alone is the first),
/// so a process nobody armed passes them at the cost of a dictionary lookup.
/// </summary>
public static class FaultPoints
{
    public const string EnvironmentVariable = "SQNXT_FAULT_POINTS";

    /// <summary>Between a training step's backward pass and its optimizer update.</summary>
    public const string TrainingStep = "training-step";

    /// <summary>After a checkpoint's weights are written to its hidden folder, before the folder is renamed into place.</summary>
    public const string CheckpointWrite = "checkpoint-write";

    /// <summary>After a flush with metric points is committed to the database, before its events are published.</summary>
    public const string MetricsFlush = "metrics-flush";

    private static readonly Dictionary<string, int> Armed = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
    private static readonly ConcurrentDictionary<string, int> Reached = new();

    /// <summary>
    /// Marks that <paramref name="name"/> was reached; when it is armed for this hit, announces it on standard error
    /// and blocks the calling thread for good, waiting to be killed.
    /// </summary>
    public static void Reach(string name)
    {
        if (Armed.Count == 0 || !Armed.TryGetValue(name, out int hit)) return;
        if (Reached.AddOrUpdate(name, 1, (_, count) => count + 1) != hit) return;
        Console.Error.WriteLine($"fault point {name} reached (hit {hit}); waiting to be killed");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }

    private static Dictionary<string, int> Parse(string? setting)
    {
        var armed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('@', 2);
            armed[parts[0]] = parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 1;
        }
        return armed;
    }
}
