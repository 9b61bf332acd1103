using System.Runtime.ExceptionServices;

namespace SqueezeNext.Cli.Output;

/// <summary>
/// Runs TorchSharp work on one dedicated thread and waits for it: dispose scopes are thread-bound, and a training
/// loop should not share a thread-pool thread.
/// </summary>
public static class DedicatedThread
{
    public static T Run<T>(string name, Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: 16 * 1024 * 1024) { Name = name };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
