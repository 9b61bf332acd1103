namespace SqueezeNext.Persistence.Entities;

/// <summary>What an evaluation run measured.</summary>
public sealed class EvaluationResult
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public int? ModelVersionId { get; set; }
    public string Dataset { get; set; } = "";
    public string Split { get; set; } = "val";
    public int Images { get; set; }
    public double? Loss { get; set; }
    public double Top1 { get; set; }
    public double Top5 { get; set; }
    public double ImagesPerSecond { get; set; }

    /// <summary>Per-class accuracy (jsonb array of {index, name, correct, total}).</summary>
    public string PerClassJson { get; set; } = "[]";

    public DateTimeOffset CreatedAt { get; set; }
}
