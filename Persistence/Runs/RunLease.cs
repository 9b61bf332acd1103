using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Runs;

/// <summary>A worker's hold on a running run. <see cref="Attempt"/> is the fencing token every write names.</summary>
public sealed record RunLease(Guid RunId, int Attempt);

/// <summary>A run claimed for a new attempt, and the lease that attempt holds.</summary>
public sealed record ClaimedRun(Run Run, RunLease Lease);

/// <summary>What renewing a lease found.</summary>
public enum LeaseState
{
    Held,

    /// <summary>Held, and a cancel was asked for: the attempt should checkpoint and stop.</summary>
    CancelRequested,

    /// <summary>Another attempt holds the run, or it is no longer running: the attempt must stop and write nothing more.</summary>
    Lost,
}

/// <summary>Progress of a running run, written with each lease renewal.</summary>
public sealed record RunProgress(long Step, long TotalSteps, int Epoch, double? ImagesPerSecond, double? EtaSeconds,
    double? LastTop1, double? LastTop5, double? LastLoss, double? BestTop1);

/// <summary>What an attempt produced since its last write.</summary>
public sealed record AttemptRecords(IReadOnlyList<MetricPoint> Metrics, IReadOnlyList<Checkpoint> Checkpoints, IReadOnlyList<RunEvent> Events)
{
    public bool IsEmpty => Metrics.Count + Checkpoints.Count + Events.Count == 0;
}

/// <summary>How an attempt ends its run: the final status, the error or result, and the event that says so.</summary>
public sealed record RunEnding(RunStatus Status, RunEvent? Event, string? Error = null, double? Top1 = null, double? Top5 = null,
    double? BestTop1 = null, EvaluationResult? Evaluation = null, ImportEnding? Imported = null);
