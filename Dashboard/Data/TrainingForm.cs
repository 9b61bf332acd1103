using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Data;

/// <summary>
/// The new-training form. Its settings are named as the engine's run settings (<c>batchSize</c> is
/// <see cref="BatchSize"/>), whose ranges and defaults the workers publish: the form validates with those, starts from
/// those defaults, and reads a cloned run's stored plan straight into itself.
/// </summary>
public sealed class TrainingForm : IValidatableObject
{
    public const string CustomConfiguration = "(custom JSON)";
    public const int MaxNameLength = 200;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Configuration { get; set; } = "";

    /// <summary>A configuration document (a base and overrides) when <see cref="Configuration"/> is custom.</summary>
    public string? ConfigurationJson { get; set; }

    public string Dataset { get; set; } = "";

    public string? Name { get; set; }

    public int Epochs { get; set; } = 1;
    public long? MaxSteps { get; set; }
    public int BatchSize { get; set; } = 128;
    public double LearningRate { get; set; } = 0.1;
    public int WarmupSteps { get; set; }
    public double WeightDecay { get; set; }
    public int PreciseBatchNormBatches { get; set; }
    public int EvalEverySteps { get; set; }
    public int? EvalMaxImages { get; set; }
    public int CheckpointEverySteps { get; set; }
    public double CheckpointEveryMinutes { get; set; } = 10;
    public long Seed { get; set; }

    /// <summary>The run settings' fields as the workers published them; the form checks its values against them.</summary>
    public IReadOnlyList<RunSettingField> Fields { get; set; } = [];

    /// <summary>The form's property for a published field (the same name), or null for a field this form does not show.</summary>
    public static PropertyInfo? PropertyOf(RunSettingField field) =>
        typeof(TrainingForm).GetProperty(field.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);

    // Every check is here rather than in attributes: the validator skips this method while an attribute fails, and a
    // user should see all of the form's problems at once.
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Configuration)) yield return new ValidationResult("Choose a configuration.", [nameof(Configuration)]);
        if (string.IsNullOrWhiteSpace(Dataset)) yield return new ValidationResult("Choose a dataset.", [nameof(Dataset)]);
        if (Name is { Length: > MaxNameLength }) yield return new ValidationResult($"The name can be at most {MaxNameLength} characters.", [nameof(Name)]);
        foreach (var field in Fields)
        {
            if (PropertyOf(field) is not { } property || property.GetValue(this) is not { } boxed) continue;
            double value = Convert.ToDouble(boxed, CultureInfo.InvariantCulture);
            bool whole = !field.WholeNumber || Math.Floor(value) == value;
            if (double.IsFinite(value) && value >= field.Minimum && value <= field.Maximum && whole) continue;
            string format = field.WholeNumber ? "N0" : "G";
            yield return new ValidationResult(
                $"{field.Label} must be between {field.Minimum.ToString(format, CultureInfo.InvariantCulture)} and {field.Maximum.ToString(format, CultureInfo.InvariantCulture)}{(whole ? "" : ", a whole number")}.",
                [property.Name]);
        }
    }

    /// <summary>Takes the defaults of the settings: a recipe value from the configuration document, else the field's own.</summary>
    public void ApplyDefaults(string configurationJson)
    {
        using var document = JsonDocument.Parse(configurationJson);
        document.RootElement.TryGetProperty("training", out var training);
        foreach (var field in Fields)
        {
            if (PropertyOf(field) is not { } property) continue;
            if (field.RecipeName is { } recipeName && training.ValueKind == JsonValueKind.Object && training.TryGetProperty(recipeName, out var value))
                property.SetValue(this, value.Deserialize(property.PropertyType, Json));
            else if (field.RecipeName is null && field.DefaultValue is { } fallback)
                property.SetValue(this, Convert.ChangeType(fallback, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The form for a clone of <paramref name="run"/>: everything its stored plan ran with.</summary>
    public static TrainingForm CloneOf(Run run, IReadOnlyList<RunSettingField> fields)
    {
        var form = JsonSerializer.Deserialize<StoredTrainingPlan>(run.PlanJson, Json)?.Settings ?? new TrainingForm();
        form.Fields = fields;
        form.Configuration = run.ConfigurationName;
        form.Dataset = run.Dataset;
        form.Name = $"{run.Name} (clone)";
        return form;
    }

    public SubmitTraining ToCommand(Guid runId, string? customJson = null) => new(
        runId,
        Configuration == CustomConfiguration ? "" : Configuration,
        Dataset,
        ConfigurationJson: Configuration == CustomConfiguration ? customJson ?? ConfigurationJson : customJson,
        Name: string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
        Epochs: Epochs,
        MaxSteps: MaxSteps,
        BatchSize: BatchSize,
        LearningRate: LearningRate,
        WarmupSteps: WarmupSteps,
        WeightDecay: WeightDecay,
        PreciseBatchNormBatches: PreciseBatchNormBatches,
        Seed: Seed,
        EvalEverySteps: EvalEverySteps,
        EvalMaxImages: EvalMaxImages,
        CheckpointEverySteps: CheckpointEverySteps,
        CheckpointEveryMinutes: CheckpointEveryMinutes);

    /// <summary>The part of a stored training plan a clone reads: its resolved settings, named as this form's.</summary>
    private sealed record StoredTrainingPlan(TrainingForm? Settings);
}
