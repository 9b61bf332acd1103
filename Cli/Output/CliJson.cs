using System.Text.Json;
using System.Text.Json.Serialization;
using SqueezeNext.Vision.Configuration;

namespace SqueezeNext.Cli.Output;

/// <summary>Writes the JSON that <c>--json</c> promises: one document on stdout, camelCase names, NaN and infinities as null.</summary>
public static class CliJson
{
    private static readonly JsonSerializerOptions Options = new(ConfigurationJson.Options)
    {
        Converters = { new NonFiniteAsNull() },
    };

    public static void Write<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));

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
