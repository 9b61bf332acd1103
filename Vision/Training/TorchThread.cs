namespace SqueezeNext.Vision.Training;

/// <summary>
/// Runs TorchSharp work on a thread of its own: dispose scopes are thread-bound, and a training loop must not hold a
/// thread-pool thread for hours. Hosts await <see cref="RunAsync{T}"/>; a console waits with <see cref="Run{T}"/>.
/// </summary>
public static class TorchThread
{
    public static Task<T> RunAsync<T>(string name, Func<T> work)
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

    /// <summary>Runs the work on its own thread and waits; the work's exception is rethrown as it was.</summary>
    public static T Run<T>(string name, Func<T> work) => RunAsync(name, work).GetAwaiter().GetResult();
}
