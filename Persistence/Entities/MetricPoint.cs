namespace SqueezeNext.Persistence.Entities;

/// <summary>One measurement of a run at a step. (RunId, Name, Step) is unique: a resumed run overwrites, never duplicates.</summary>
public sealed class MetricPoint
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public long Step { get; set; }
    public int Epoch { get; set; }
    public string Name { get; set; } = "";
    public double Value { get; set; }
    public DateTimeOffset Time { get; set; }

    /// <summary>The attempt that wrote it (a later attempt repeating the step overwrites it).</summary>
    public int Attempt { get; set; }
}
