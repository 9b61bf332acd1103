namespace SqueezeNext.Persistence.Entities;

/// <summary>Where a run is in its life. Stored as text.</summary>
public enum RunStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

/// <summary>What a run does. Stored as text.</summary>
public enum RunKind
{
    Training,
    Evaluation,

    /// <summary>Imports an archive or folder as a new dataset version.</summary>
    Import,
}
