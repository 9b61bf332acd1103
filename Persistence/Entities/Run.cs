namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// A training or evaluation job. Rows are claimed by workers with <c>FOR UPDATE SKIP LOCKED</c>; a running row carries
/// the claiming worker and a heartbeat, and a row whose heartbeat goes stale is queued again to resume.
/// </summary>
public sealed class Run
{
    /// <summary>The client-chosen id from the submitting command.</summary>
    public Guid Id { get; set; }

    public RunKind Kind { get; set; }
    public RunStatus Status { get; set; }
    public string Name { get; set; } = "";

    /// <summary>Name of the configuration (the resolved configuration is in <see cref="ConfigurationJson"/>).</summary>
    public string ConfigurationName { get; set; } = "";

    /// <summary>The complete configuration the run trains (jsonb), so a run can always be reproduced.</summary>
    public string ConfigurationJson { get; set; } = "{}";

    /// <summary>
    /// The run's plan (jsonb), made once when its command was accepted: for training the engine's training plan
    /// (configuration, classes, settings), for evaluation the split and image limit. Every attempt runs from it.
    /// </summary>
    public string PlanJson { get; set; } = "{}";

    public string Dataset { get; set; } = "";
    public string? ValidationDataset { get; set; }

    /// <summary>The dataset version the run reads (null for a folder dataset), and its digest: what makes the run reproducible.</summary>
    public int? DatasetVersionId { get; set; }
    public string? DatasetDigest { get; set; }
    public int? ValidationDatasetVersionId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }

    /// <summary>The worker holding the run while it is running.</summary>
    public string? Worker { get; set; }

    /// <summary>How many times a worker claimed the run (above 1 after a resume).</summary>
    public int Attempts { get; set; }

    public string? Error { get; set; }
    public bool CancelRequested { get; set; }
    public string? CancelReason { get; set; }

    public long Step { get; set; }
    public long TotalSteps { get; set; }
    public int Epoch { get; set; }
    public double? BestTop1 { get; set; }
    public double? LastTop1 { get; set; }
    public double? LastTop5 { get; set; }
    public double? LastLoss { get; set; }
    public double? ImagesPerSecond { get; set; }
    public double? EtaSeconds { get; set; }

    /// <summary>Folder under the artifact root with the run's checkpoints and models.</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>For an evaluation: the model it evaluates (a version, or a training run's output).</summary>
    public int? ModelVersionId { get; set; }
    public Guid? SourceRunId { get; set; }
    public long? SourceCheckpointStep { get; set; }
}
