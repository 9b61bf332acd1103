namespace SqueezeNext.Dashboard.Uploads;

/// <summary>
/// One writer per upload at a time within this process: two PATCHes that both passed the offset check must not both
/// append. A gate lives only while somebody holds or waits for it, so finished uploads leave nothing behind.
/// </summary>
public sealed class UploadLocks
{
    private readonly Dictionary<string, Gate> gates = new(StringComparer.Ordinal);

    /// <summary>The upload's gate, or null when another request still holds it after <paramref name="wait"/>.</summary>
    public async Task<IDisposable?> TryEnterAsync(string id, TimeSpan wait, CancellationToken cancellationToken)
    {
        Gate gate;
        lock (gates)
        {
            if (!gates.TryGetValue(id, out gate!)) gates[id] = gate = new Gate();
            gate.Users++;
        }
        bool entered = false;
        try
        {
            entered = await gate.Semaphore.WaitAsync(wait, cancellationToken);
        }
        finally
        {
            if (!entered) Leave(id, gate, release: false);
        }
        return entered ? new Held(this, id, gate) : null;
    }

    private void Leave(string id, Gate gate, bool release)
    {
        lock (gates)
        {
            if (release) gate.Semaphore.Release();
            if (--gate.Users > 0) return;
            gates.Remove(id);
            gate.Semaphore.Dispose();
        }
    }

    private sealed class Gate
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);
        public int Users { get; set; }
    }

    private sealed class Held(UploadLocks locks, string id, Gate gate) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) locks.Leave(id, gate, release: true);
        }
    }
}
