namespace SqueezeNext.Persistence.Entities;

/// <summary>A line of a run's event log (started, evaluated, checkpoint, warning, error, ...).</summary>
public sealed class RunEvent
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public DateTimeOffset Time { get; set; }
    public string Kind { get; set; } = "";
    public string Level { get; set; } = "info";
    public string Message { get; set; } = "";
}
