using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SqueezeNext.Cli.Output;

/// <summary>Writes the JSON that <c>--json</c> promises: one document on stdout, camelCase names, NaN and infinities as null.</summary>
public static class CliJson
{
    private static readonly JsonSerializerOptions Options = new(ConfigurationJson.Options)
    {
        Converters = { new NonFiniteAsNull() },
    };

    private static readonly JsonSerializerOptions LineOptions = new(Options) { WriteIndented = false };

    public static void Write<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

    /// <summary>Writes <paramref name="value"/>'s own fields after <paramref name="context"/> (what it was computed for).</summary>
    public static void Write<T>(T value, params (string Name, string Value)[] context) => Console.Out.WriteLine(WithContext(value, context).ToJsonString(Options));

    /// <summary>One document on one line, for commands that answer once per input or event (JSON Lines).</summary>
    public static void WriteLine<T>(T value, params (string Name, string Value)[] context) =>
        Console.Out.WriteLine(context.Length == 0 ? JsonSerializer.Serialize(value, LineOptions) : WithContext(value, context).ToJsonString(LineOptions));

    private static JsonObject WithContext<T>(T value, (string Name, string Value)[] context)
    {
        var document = new JsonObject();
        foreach (var (name, text) in context) document[name] = text;
        foreach (var (name, node) in JsonSerializer.SerializeToNode(value, Options)!.AsObject().ToList())
            document[name] = node?.DeepClone();
        return document;
    }

    /// <summary>JSON has no NaN: a metric that could not be computed (a diverged loss) is written as null.</summary>
    private sealed class NonFiniteAsNull : JsonConverter<double>
    {
        public override bool HandleNull => false;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
