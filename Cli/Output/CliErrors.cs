using System.Text.Json;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.Cli.Output;

/// <summary>
/// Turns the failures a user can cause (a bad configuration, a wrong model directory, a missing or unreadable file)
/// into a message on stderr and exit code 1, instead of a stack trace.
/// </summary>
public static class CliErrors
{
    public const int Failure = 1;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"sqnxt: error: {e.Message}");
            return Failure;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is InvalidConfigurationException or ArtifactException or IOException or UnauthorizedAccessException
            or JsonException or CliUsageException;
}

/// <summary>A command line that parsed but asks for something impossible (an option combination, an unsupported format).</summary>
public sealed class CliUsageException(string message) : Exception(message);
