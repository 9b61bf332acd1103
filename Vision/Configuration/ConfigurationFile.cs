using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SqueezeNext.Vision.Configuration;

/// <summary>
/// A user's configuration file: names a base configuration and overrides some of its fields, as copying and editing
/// a config file did in the TF port:
/// <code>
/// { "base": "v_1_0_SqNxt_23", "name": "sqnxt23-fashion",
///   "architecture": { "numClasses": 10, "inputSize": 32 },
///   "training": { "batchSize": 128, "epochs": 10 } }
/// </code>
/// A complete configuration (as <c>sqnxt configs --json</c> or a model artifact writes it) is accepted without
/// <c>base</c>. Unknown fields and invalid values are rejected with a message that names the field.
/// </summary>
public static class ConfigurationFile
{
    private static readonly string[] TopLevelFields = ["base", "name", "description", "source", "architecture", "training"];

    public static SqueezeNextConfiguration Load(string path)
    {
        if (!File.Exists(path))
            throw new InvalidConfigurationException($"configuration file '{path}' does not exist");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidConfigurationException($"configuration file '{path}' cannot be read: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses a configuration document; <paramref name="origin"/> names it in messages.</summary>
    public static SqueezeNextConfiguration Parse(string json, string origin = "configuration")
    {
        JsonObject document;
        try
        {
            document = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions
            {
                AllowTrailingCommas = true,
                CommentHandling = JsonCommentHandling.Skip,
            }) as JsonObject ?? throw new InvalidConfigurationException($"{origin}: the file must hold one JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidConfigurationException($"{origin}: not valid JSON (line {e.LineNumber + 1}): {FirstSentence(e.Message)}");
        }

        foreach (var (key, _) in document)
        {
            if (!TopLevelFields.Contains(key))
                throw new InvalidConfigurationException($"{key}: unknown field{Suggestion(key, TopLevelFields)}; a configuration has {string.Join(", ", TopLevelFields)}");
        }

        JsonObject merged;
        if (document["base"] is { } baseNode)
        {
            if (baseNode.GetValueKind() != JsonValueKind.String)
                throw new InvalidConfigurationException("base: must be the name of a configuration");
            var baseName = baseNode.GetValue<string>();
            var baseConfiguration = ConfigurationCatalog.Find(baseName) ?? throw new InvalidConfigurationException(
                $"base: unknown configuration '{baseName}'; known configurations: {string.Join(", ", ConfigurationCatalog.Names)}");
            merged = (JsonObject)JsonSerializer.SerializeToNode(baseConfiguration, ConfigurationJson.Options)!;
            merged["source"] = $"{origin}, based on {baseConfiguration.Name}";
            if (document["name"] is null)
                throw new InvalidConfigurationException("name: a configuration that extends a base needs a name of its own");
            MergeSection(document, merged, "architecture");
            MergeSection(document, merged, "training");
            foreach (var field in new[] { "name", "description", "source" })
            {
                if (document[field] is { } value) merged[field] = value.DeepClone();
            }
        }
        else
        {
            merged = document;
        }

        SqueezeNextConfiguration configuration;
        try
        {
            configuration = merged.Deserialize<SqueezeNextConfiguration>(ConfigurationJson.Options)
                ?? throw new InvalidConfigurationException($"{origin}: empty configuration");
        }
        catch (JsonException e)
        {
            throw new InvalidConfigurationException(DescribeJsonError(e));
        }
        return configuration.EnsureValid();
    }

    private static void MergeSection(JsonObject document, JsonObject merged, string section)
    {
        if (document[section] is not { } overrides) return;
        if (overrides is not JsonObject overrideObject)
            throw new InvalidConfigurationException($"{section}: must be a JSON object of fields to override");
        var target = (JsonObject)merged[section]!;
        foreach (var (key, value) in overrideObject)
        {
            if (!target.ContainsKey(key))
                throw new InvalidConfigurationException(
                    $"{section}.{key}: unknown field{Suggestion(key, target.Select(p => p.Key))}; {section} has {string.Join(", ", target.Select(p => p.Key))}");
            target[key] = value?.DeepClone();
        }
    }

    private static string DescribeJsonError(JsonException e)
    {
        // System.Text.Json reports "$.training.batchSize"; users wrote "training.batchSize".
        var path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        if (e.Message.Contains("could not be mapped", StringComparison.Ordinal))
            return $"{(path.Length == 0 ? "" : path + ": ")}{FirstSentence(e.Message)}";
        var expected = ExpectedValue(path);
        if (string.IsNullOrEmpty(path))
            return $"configuration: {FirstSentence(e.Message)}";
        return expected is null ? $"{path}: invalid value" : $"{path}: invalid value, expected {expected}";
    }

    private static string? ExpectedValue(string path)
    {
        Type? type = typeof(SqueezeNextConfiguration);
        foreach (var segment in path.Split('.'))
        {
            var name = segment.Split('[')[0];
            var property = type?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            type = property?.PropertyType;
            if (type is null) return null;
        }
        if (type == typeof(int)) return "a whole number";
        if (type == typeof(double)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a string";
        if (type == typeof(int[])) return "a list of whole numbers";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type));
        return null;
    }

    private static string Suggestion(string key, IEnumerable<string> known)
    {
        static string Normalise(string name) => name.Replace("_", "").ToLowerInvariant();
        var match = known
            .Select(k => (Name: k, Distance: EditDistance(Normalise(k), Normalise(key))))
            .Where(k => k.Distance <= 2)
            .OrderBy(k => k.Distance)
            .FirstOrDefault();
        return match.Name is null ? "" : $" (did you mean '{match.Name}'?)";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            previous = current;
        }
        return previous[b.Length];
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}
