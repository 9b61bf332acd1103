using System.Text.Json;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>
/// An import run's plan, made when its command is accepted and stored with the run: what to read (an upload id, or a
/// path relative to the data volume) and the split to make. Every attempt imports from it.
/// </summary>
public sealed record DatasetImportPlan(string Source, string Path, string FileName, double ValidationFraction, int Seed)
{
    public static readonly string[] Sources = ["upload", "file", "folder", "imagenet"];

    public string ToJson() => JsonSerializer.Serialize(this, JobPlanner.Json);

    public static DatasetImportPlan FromJson(string json, string what) =>
        JsonSerializer.Deserialize<DatasetImportPlan>(json, JobPlanner.Json) ?? throw new InvalidDataException($"{what} has no import plan");
}
