namespace SqueezeNext.Persistence.Entities;

/// <summary>A registered model: a name, a version number and a model directory. At most one version per name serves.</summary>
public sealed class ModelVersion
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public int Version { get; set; }
    /// <summary>The training run the weights come from; null for imported weights.</summary>
    public Guid? SourceRunId { get; set; }
    public long? CheckpointStep { get; set; }

    /// <summary>The register or import command that created the version, so a redelivered command gets the same answer.</summary>
    public Guid? CommandId { get; set; }

    /// <summary>Model directory (model.json + weights.safetensors) under the artifact root.</summary>
    public string Path { get; set; } = "";

    public string ConfigurationName { get; set; } = "";
    public string? Description { get; set; }
    public bool IsServing { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? PromotedAt { get; set; }
}
