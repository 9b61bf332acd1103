namespace SqueezeNext.Persistence.Entities;

/// <summary>What a line of a run's event log records. Stored as kebab-case text (<see cref="RunEventKinds"/>).</summary>
public enum RunEventKind
{
    Queued,
    Started,
    Resumed,
    ShortRun,
    NoValidation,
    SkippedImage,
    Evaluated,
    Cancelled,
    Completed,
    Failed,

    /// <summary>The worker shut down and put the run back in the queue.</summary>
    Released,

    /// <summary>The worker's lease went stale and another worker's monitor queued the run again.</summary>
    Requeued,

    /// <summary>The worker lost its lease (another attempt holds the run, or it could not renew it) and stopped.</summary>
    LeaseLost,
    CancelRequested,
    ResumeRequested,
}

/// <summary>The stored names of <see cref="RunEventKind"/>: "cancel-requested", "short-run", ...</summary>
public static class RunEventKinds
{
    private static readonly Dictionary<RunEventKind, string> Names = Enum.GetValues<RunEventKind>().ToDictionary(k => k, KebabCase);
    private static readonly Dictionary<string, RunEventKind> Kinds = Names.ToDictionary(p => p.Value, p => p.Key);

    public static string Name(RunEventKind kind) => Names[kind];

    public static RunEventKind Parse(string name) =>
        Kinds.TryGetValue(name, out var kind) ? kind : throw new InvalidDataException($"'{name}' is not a run event kind");

    private static string KebabCase(RunEventKind kind) =>
        string.Concat(kind.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? $"-{char.ToLowerInvariant(c)}" : char.ToLowerInvariant(c).ToString()));
}
