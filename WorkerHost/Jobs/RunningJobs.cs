using System.Collections.Concurrent;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>Why a running job was asked to stop.</summary>
public enum StopReason
{
    None,

    /// <summary>A user cancelled the run.</summary>
    Cancelled,

    /// <summary>The worker is shutting down; the run goes back to the queue and resumes elsewhere.</summary>
    Shutdown,

    /// <summary>The attempt lost its lease (another may hold the run now): stop without writing anything.</summary>
    LeaseLost,
}

/// <summary>The jobs running on this worker, so a cancel command stops one at once instead of at its next heartbeat.</summary>
public sealed class RunningJobs
{
    private readonly ConcurrentDictionary<Guid, RunningJob> jobs = new();

    public RunningJobs(WorkerMetrics metrics)
    {
        metrics.ObserveActiveRuns(() => jobs.Count);
    }

    public RunningJob Start(Guid runId, CancellationToken hostStopping)
    {
        var job = new RunningJob(runId, hostStopping);
        jobs[runId] = job;
        return job;
    }

    public void Finish(Guid runId)
    {
        if (jobs.TryRemove(runId, out var job)) job.Dispose();
    }

    /// <summary>Stops the run if it runs here and returns the step it had reached when stopped; null when it does not run here.</summary>
    public long? TryCancel(Guid runId)
    {
        if (!jobs.TryGetValue(runId, out var job)) return null;
        // Stop first: read before, the step could be overtaken by one more while this thread waits for a core, and
        // the run would seem to stop two steps after the cancel instead of within the one it was in.
        job.Stop(StopReason.Cancelled);
        return job.CurrentStep();
    }

    public IReadOnlyCollection<Guid> Ids => jobs.Keys.ToArray();
}

/// <summary>One job's cancellation and the reason for it (the first reason wins).</summary>
public sealed class RunningJob : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly CancellationTokenRegistration hostRegistration;
    private int reason;

    public RunningJob(Guid runId, CancellationToken hostStopping)
    {
        RunId = runId;
        hostRegistration = hostStopping.Register(() => Stop(StopReason.Shutdown));
    }

    public Guid RunId { get; }

    /// <summary>Reads the step the job has reached (set by the runner once the job's recorder exists).</summary>
    public Func<long> CurrentStep { get; set; } = () => 0;

    public CancellationToken Token => source.Token;

    public StopReason Reason => (StopReason)Volatile.Read(ref reason);

    public void Stop(StopReason stopReason)
    {
        if (Interlocked.CompareExchange(ref reason, (int)stopReason, (int)StopReason.None) == (int)StopReason.None)
            source.Cancel();
    }

    public void Dispose()
    {
        hostRegistration.Dispose();
        source.Dispose();
    }
}
