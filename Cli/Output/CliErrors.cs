namespace SqueezeNext.Cli.Output;

/// <summary>
/// Turns every failure into one line on stderr and a non-zero exit instead of a stack trace: exit 1 for what the
/// user can fix (a bad configuration, a wrong model directory, a corrupt image, ...), 2 for an internal error.
/// Set SQNXT_DEBUG=1 to see the stack trace of internal errors.
/// </summary>
public static class CliErrors
{
    public const int Failure = 1;
    public const int InternalError = 2;
    public const int Cancelled = 130;

    /// <summary><see cref="Run(Func{int})"/> for the commands that talk to the dashboard or the broker.</summary>
    public static int Run(Func<Task<int>> action) => Run(() => action().GetAwaiter().GetResult());

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("sqnxt: cancelled");
            return Cancelled;
        }
        catch (Exception e) when (IsInternal(e))
        {
            Console.Error.WriteLine($"sqnxt: internal error ({e.GetType().Name}): {OneLine(e.Message)}");
            if (Environment.GetEnvironmentVariable("SQNXT_DEBUG") == "1") Console.Error.WriteLine(e);
            return InternalError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"sqnxt: error: {e.Message}");
            return Failure;
        }
    }

    private static bool IsInternal(Exception e) =>
        e is NullReferenceException or IndexOutOfRangeException or InvalidCastException or NotImplementedException
            or ObjectDisposedException or StackOverflowException or AccessViolationException;

    private static string OneLine(string message) => message.Replace('\n', ' ').Replace('\r', ' ');
}

/// <summary>A command line that parsed but asks for something impossible (an option combination, an unsupported format).</summary>
public sealed class CliUsageException(string message) : Exception(message);
