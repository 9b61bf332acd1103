using System.Text.Json;
using System.Text.Json.Serialization;

namespace SqueezeNext.Vision.Configuration;

/// <summary>The JSON conventions of configurations and model artifacts: camelCase names, unknown members rejected.</summary>
public static class ConfigurationJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        NumberHandling = JsonNumberHandling.Strict,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Serialize(SqueezeNextConfiguration configuration) => JsonSerializer.Serialize(configuration, Options);
}
