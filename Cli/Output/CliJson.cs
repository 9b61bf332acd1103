using System.Text.Json;
using SqueezeNext.Vision.Configuration;

namespace SqueezeNext.Cli.Output;

/// <summary>Writes the JSON that <c>--json</c> promises: one document on stdout, camelCase names.</summary>
public static class CliJson
{
    public static void Write<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, ConfigurationJson.Options));
}
