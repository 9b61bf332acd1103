using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence.Runs;

/// <summary>Requests from outside any attempt: a user's cancel and resume.</summary>
public sealed partial class RunLifecycle
{
    /// <summary>
    /// Cancels a queued or running run: a queued one at once (true), a running one by flagging it for the attempt
    /// that holds it, after which <paramref name="stopHere"/> stops it at once if it runs in this process and returns
    /// the step it had reached. The request is logged as an event.
    /// </summary>
    public async Task<bool> CancelAsync(Guid runId, string reason, Func<long?> stopHere, CancellationToken cancellationToken)
    {
        int cancelledWhileQueued = await db.Runs
            .Where(r => r.Id == runId && r.Status == RunStatus.Queued)
            .ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.CancelReason, reason)
                .SetProperty(r => r.FinishedAt, r => DateTimeOffset.UtcNow), cancellationToken);
        string message = reason;
        if (cancelledWhileQueued > 0)
        {
            await db.DatasetVersions.Where(v => v.ImportRunId == runId && v.Status == DatasetVersionStatus.Importing)
                .ExecuteUpdateAsync(u => u.SetProperty(v => v.Status, DatasetVersionStatus.Failed).SetProperty(v => v.Error, $"cancelled before it started: {reason}"), cancellationToken);
        }
        else
        {
            await db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.Running)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.CancelRequested, true).SetProperty(r => r.CancelReason, reason), cancellationToken);
            if (stopHere() is { } step) message = $"{reason} (at step {step} on this worker)";
        }
        db.RunEvents.Add(Event(runId, RunEventKind.CancelRequested, message, "warning"));
        await db.SaveChangesAsync(cancellationToken);
        return cancelledWhileQueued > 0;
    }

    /// <summary>Queues a cancelled or failed run again, to resume from its newest checkpoint; false when it is neither.</summary>
    public async Task<bool> ResumeAsync(Guid runId, CancellationToken cancellationToken)
    {
        int queued = await db.Runs
            .Where(r => r.Id == runId && (r.Status == RunStatus.Cancelled || r.Status == RunStatus.Failed))
            .ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, RunStatus.Queued)
                .SetProperty(r => r.CancelRequested, false)
                .SetProperty(r => r.CancelReason, (string?)null)
                .SetProperty(r => r.Error, (string?)null)
                .SetProperty(r => r.FinishedAt, (DateTimeOffset?)null), cancellationToken);
        if (queued == 0) return false;
        // A failed import starts again from its source, for the same version number.
        await db.DatasetVersions.Where(v => v.ImportRunId == runId && v.Status == DatasetVersionStatus.Failed)
            .ExecuteUpdateAsync(u => u.SetProperty(v => v.Status, DatasetVersionStatus.Importing).SetProperty(v => v.Error, (string?)null), cancellationToken);
        db.RunEvents.Add(Event(runId, RunEventKind.ResumeRequested, "queued to resume from the newest checkpoint"));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Why the run was cancelled, as the cancel command said.</summary>
    public Task<string?> CancelReasonAsync(Guid runId, CancellationToken cancellationToken) =>
        db.Runs.Where(r => r.Id == runId).Select(r => r.CancelReason).FirstOrDefaultAsync(cancellationToken);
}
