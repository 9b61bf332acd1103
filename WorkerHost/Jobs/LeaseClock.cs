using System.Diagnostics;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// This worker's own view of its lease on a run: held while the newest renewal the database accepted began less than
/// the stale period ago. From then on another worker may take the run over, so this one must write nothing more. Once
/// lost, the lease stays lost. The clock is monotonic, so time spent paused (SIGSTOP) counts.
/// </summary>
public sealed class LeaseClock(TimeSpan staleAfter, long claimStartedAt)
{
    private long renewalStartedAt = claimStartedAt;
    private volatile bool lost;

    public bool IsHeld
    {
        get
        {
            if (!lost && Stopwatch.GetElapsedTime(Interlocked.Read(ref renewalStartedAt)) >= staleAfter) lost = true;
            return !lost;
        }
    }

    /// <summary>A renewal that began at <paramref name="startedAt"/> (a <see cref="Stopwatch.GetTimestamp"/>) was accepted.</summary>
    public void Renewed(long startedAt)
    {
        if (IsHeld) Interlocked.Exchange(ref renewalStartedAt, Math.Max(startedAt, Interlocked.Read(ref renewalStartedAt)));
    }

    /// <summary>The database refused a write or renewal: another attempt holds the run, or it is no longer running.</summary>
    public void Lose() => lost = true;
}
