namespace SqueezeNext.Testing;

/// <summary>
/// The tests' one way to wait: poll a fact until it holds, or until it stops changing. A test waits for something
/// that happens, never for a length of time after which it hopes nothing more will.
/// </summary>
public static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>Polls <paramref name="done"/> until it holds; fails after <paramref name="timeout"/> naming <paramref name="what"/>, with <paramref name="context"/> (logs).</summary>
    public static async Task UntilAsync(Func<Task<bool>> done, string what, TimeSpan timeout, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {timeout}.\n{context?.Invoke()}");
            await Task.Delay(Interval);
        }
    }

    /// <summary>Polls <paramref name="probe"/> until it gives a value, and returns it.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout, Func<string>? context = null) where T : class
    {
        T? found = null;
        await UntilAsync(async () => (found = await probe()) is not null, what, timeout, context);
        return found!;
    }

    /// <summary>
    /// Polls <paramref name="observe"/> until it reads the same at every poll for <paramref name="stableFor"/>, and
    /// returns that reading; fails when it is still changing after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string> UntilStableAsync(Func<Task<string>> observe, string what, TimeSpan stableFor, TimeSpan timeout, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        string last = await observe();
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow - since < stableFor)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what} still changed after {timeout} (last: {last}).\n{context?.Invoke()}");
            await Task.Delay(Interval);
            string now = await observe();
            if (now == last) continue;
            last = now;
            since = DateTime.UtcNow;
        }
        return last;
    }
}
