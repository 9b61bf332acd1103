namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Runs TorchSharp work on a thread of its own and lets async code await it: dispose scopes are thread-bound, and a
/// training loop must not occupy a thread-pool thread for hours.
/// </summary>
public static class DedicatedThread
{
    public static Task<T> Run<T>(string name, Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        }, maxStackSize: 16 * 1024 * 1024)
        {
            Name = name,
            IsBackground = true,
        };
        thread.Start();
        return completion.Task;
    }
}
