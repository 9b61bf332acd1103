using System.Text.Json;

namespace SqueezeNext.Dashboard.Data;

/// <summary>One class of an evaluation's per-class results (stored as JSON with the evaluation).</summary>
public sealed record ClassAccuracy(int Index, string Name, int Correct, int Total)
{
    public double? Accuracy => Total == 0 ? null : (double)Correct / Total;

    public static IReadOnlyList<ClassAccuracy> Parse(string perClassJson) =>
        JsonSerializer.Deserialize<List<ClassAccuracy>>(perClassJson, new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? [];
}
