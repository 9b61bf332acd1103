namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// A training, evaluation or import job. What a run is (its kind, plan and data) is fixed when it is made; its state
/// (status, times, attempts, progress) changes only through <see cref="Runs.RunLifecycle"/>, whose setters are this
/// assembly's alone. Rows are claimed by workers with <c>FOR UPDATE SKIP LOCKED</c>; a running row carries
/// the claiming worker and a heartbeat, and a row whose heartbeat goes stale is queued again to resume.
/// </summary>
public sealed class Run
{
    /// <summary>The client-chosen id from the submitting command.</summary>
    public Guid Id { get; init; }

    public RunKind Kind { get; init; }
    public RunStatus Status { get; internal set; }
    public string Name { get; init; } = "";

    /// <summary>Name of the configuration (the resolved configuration is in <see cref="ConfigurationJson"/>).</summary>
    public string ConfigurationName { get; init; } = "";

    /// <summary>The complete configuration the run trains (jsonb), so a run can always be reproduced.</summary>
    public string ConfigurationJson { get; init; } = "{}";

    /// <summary>
    /// The run's plan (jsonb), made once when its command was accepted: for training the engine's training plan
    /// (configuration, classes, settings), for evaluation the split and image limit. Every attempt runs from it.
    /// </summary>
    public string PlanJson { get; init; } = "{}";

    public string Dataset { get; init; } = "";
    public string? ValidationDataset { get; init; }

    /// <summary>The dataset version the run reads (null for a folder dataset), and its digest: what makes the run reproducible.</summary>
    public int? DatasetVersionId { get; init; }
    public string? DatasetDigest { get; init; }
    public int? ValidationDatasetVersionId { get; init; }

    public DateTimeOffset CreatedAt { get; internal set; }
    public DateTimeOffset? StartedAt { get; internal set; }
    public DateTimeOffset? FinishedAt { get; internal set; }
    public DateTimeOffset? HeartbeatAt { get; internal set; }

    /// <summary>The worker holding the run while it is running.</summary>
    public string? Worker { get; internal set; }

    /// <summary>How many times a worker claimed the run (above 1 after a resume).</summary>
    public int Attempts { get; internal set; }

    public string? Error { get; internal set; }
    public bool CancelRequested { get; internal set; }
    public string? CancelReason { get; internal set; }

    public long Step { get; internal set; }
    public long TotalSteps { get; internal set; }
    public int Epoch { get; internal set; }
    public double? BestTop1 { get; internal set; }
    public double? LastTop1 { get; internal set; }
    public double? LastTop5 { get; internal set; }
    public double? LastLoss { get; internal set; }
    public double? ImagesPerSecond { get; internal set; }
    public double? EtaSeconds { get; internal set; }

    /// <summary>Folder under the artifact root with the run's checkpoints and models.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>For an evaluation: the model it evaluates (a version, or a training run's output).</summary>
    public int? ModelVersionId { get; init; }
    public Guid? SourceRunId { get; init; }
    public long? SourceCheckpointStep { get; init; }
}
