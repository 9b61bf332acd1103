using System.Text.Json;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>An evaluation run, planned: which split to read (<c>val</c> or <c>train</c>) and at most how many images.</summary>
public sealed record EvaluationPlan(string Split, int? MaxImages)
{
    public const string ValidationSplit = "val";
    public const string TrainSplit = "train";

    public DatasetSplit DatasetSplit => Split == TrainSplit ? DatasetSplit.Train : DatasetSplit.Validation;

    /// <summary>Plans an evaluation; throws <see cref="InvalidConfigurationException"/> naming every invalid field.</summary>
    public static EvaluationPlan Create(string split, int? maxImages)
    {
        var problems = new List<string>();
        if (split is not (ValidationSplit or TrainSplit)) problems.Add($"split: '{(split.Length > 40 ? split[..40] : split)}' is not val or train");
        if (maxImages is < 1) problems.Add($"maxImages: {maxImages} must be at least 1");
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);
        return new EvaluationPlan(split, maxImages);
    }

    public string ToJson() => JsonSerializer.Serialize(this, ConfigurationJson.Options);

    public static EvaluationPlan FromJson(string json, string origin) =>
        JsonSerializer.Deserialize<EvaluationPlan>(json, ConfigurationJson.Options) ?? throw new InvalidDataException($"{origin}: no evaluation plan");
}
