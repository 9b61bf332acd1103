namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>Wakes the job runner when this worker queued a run, so it does not wait for its next poll.</summary>
public sealed class JobSignal
{
    private readonly SemaphoreSlim signal = new(0, 1);

    public void Wake()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await signal.WaitAsync(timeout, cancellationToken);
}
