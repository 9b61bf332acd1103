namespace SqueezeNext.Persistence.Entities;

/// <summary>A line of a run's event log (started, evaluated, a warning, an error, ...).</summary>
public sealed class RunEvent
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public DateTimeOffset Time { get; set; }
    public RunEventKind Kind { get; set; }
    public string Level { get; set; } = "info";
    public string Message { get; set; } = "";

    /// <summary>The attempt that wrote it; null for what a command or a monitor wrote.</summary>
    public int? Attempt { get; set; }
}
