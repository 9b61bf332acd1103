namespace SqueezeNext.Persistence.Entities;

/// <summary>A complete checkpoint a run wrote; <see cref="Path"/> is a model directory.</summary>
public sealed class Checkpoint
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public long Step { get; set; }
    public int Epoch { get; set; }
    public string Path { get; set; } = "";

    /// <summary>The attempt that wrote it (each attempt writes its own directories).</summary>
    public int Attempt { get; set; }

    /// <summary>Validation metrics at the checkpoint (jsonb object of name → value).</summary>
    public string MetricsJson { get; set; } = "{}";

    public DateTimeOffset CreatedAt { get; set; }
}
