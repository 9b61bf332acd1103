using System.ComponentModel.DataAnnotations;
using SqueezeNext.Contracts;

namespace SqueezeNext.Dashboard.Data;

/// <summary>
/// The new-evaluation form: a model version (by name, the serving one when no version is given) or a training
/// run's checkpoint, on a dataset split. Messages go next to the fields; the worker's answer is the final word.
/// </summary>
public sealed class EvaluationForm : IValidatableObject
{
    public static readonly IReadOnlyList<string> Splits = ["val", "train"];

    /// <summary>True: evaluate a registered model version; false: a training run's output.</summary>
    public bool ByModel { get; set; } = true;

    [StringLength(200)]
    public string? Model { get; set; }

    [Range(1, int.MaxValue, ErrorMessage = "Versions start at 1 (leave empty for the serving version).")]
    public int? Version { get; set; }

    public string? Run { get; set; }

    [Range(0L, long.MaxValue, ErrorMessage = "A checkpoint step cannot be negative (leave empty for the final model).")]
    public long? Step { get; set; }

    [Required(ErrorMessage = "Choose a dataset.")]
    public string? Dataset { get; set; }

    [Required(ErrorMessage = "Choose a split.")]
    public string Split { get; set; } = "val";

    [Range(1, 100_000_000, ErrorMessage = "Evaluate at least one image (leave empty for all).")]
    public int? MaxImages { get; set; }

    [StringLength(200)]
    public string? Name { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ByModel && string.IsNullOrWhiteSpace(Model))
            yield return new ValidationResult("Name the model to evaluate.", [nameof(Model)]);
        if (!ByModel && !Guid.TryParse(Run?.Trim(), out _))
            yield return new ValidationResult(string.IsNullOrWhiteSpace(Run) ? "Give the id of a training run." : "This is not a run id (a GUID such as 0b9e…).", [nameof(Run)]);
        if (!Splits.Contains(Split))
            yield return new ValidationResult($"The split is one of {string.Join(", ", Splits)}.", [nameof(Split)]);
    }

    public SubmitEvaluation ToCommand(Guid runId) => new(
        runId,
        Dataset!,
        ModelName: ByModel ? Model!.Trim() : null,
        ModelVersion: ByModel ? Version : null,
        SourceRunId: ByModel ? null : Guid.Parse(Run!.Trim()),
        CheckpointStep: ByModel ? null : Step,
        Split: Split,
        MaxImages: MaxImages,
        Name: string.IsNullOrWhiteSpace(Name) ? null : Name.Trim());
}
