using System.Collections.Concurrent;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using SqueezeNext.Contracts.Settings;

namespace SqueezeNext.Contracts;

/// <summary>
/// What a user chooses for one training run on top of its configuration: recipe values (null keeps the
/// configuration's) and the run's own length, evaluation, checkpoint and seed settings (null takes their default).
/// Each property's attributes are the one definition of that setting: the API's validation and OpenAPI document, the
/// dashboard's form, <c>sqnxt</c>'s options and the planner all read them through <see cref="Fields"/>. A new setting
/// is a property here and its use where the engine reads it.
/// </summary>
public sealed record TrainingSettings
{
    private const double LargestExactInteger = 9_007_199_254_740_991;

    [Setting(1, 10_000, Label = "Epochs", Option = "--epochs", Recipe = "epochs")]
    [Description("Passes over the training set (default: the configuration's).")]
    public int? Epochs { get; init; }

    [Setting(1, 1_000_000_000, Label = "Steps (instead of epochs)", Option = "--steps")]
    [Description("Total optimiser steps instead of epochs.")]
    public long? MaxSteps { get; init; }

    [Setting(1, 65_536, Label = "Batch size", Option = "--batch-size", ShortOption = "-b", Recipe = "batchSize")]
    [Description("Images per step (default: the configuration's).")]
    public int? BatchSize { get; init; }

    [Setting(1e-9, 100, Label = "Base learning rate", Option = "--lr", Recipe = "baseLearningRate")]
    [Description("Base learning rate (default: the configuration's).")]
    public double? LearningRate { get; init; }

    [Setting(0, 100_000_000, Label = "Warmup steps", Option = "--warmup-steps", Recipe = "warmupSteps")]
    [Description("Linear warmup steps (default: the configuration's).")]
    public int? WarmupSteps { get; init; }

    [Setting(0, 1, Label = "Weight decay", Option = "--weight-decay", Recipe = "weightDecay")]
    [Description("L2 weight decay (default: the configuration's).")]
    public double? WeightDecay { get; init; }

    [Setting(0, 0.5, Label = "Label smoothing", Option = "--label-smoothing", Recipe = "labelSmoothing")]
    [Description("Share of each target spread evenly over all classes (default: the configuration's; the references use none).")]
    public double? LabelSmoothing { get; init; }

    [Setting(0, 10_000, Label = "Precise-BN batches", Option = "--precise-bn", Recipe = "preciseBatchNormBatches")]
    [Description("Recompute BatchNorm statistics over N training batches before evaluating (default: the configuration's).")]
    public int? PreciseBatchNormBatches { get; init; }

    [Setting(0, 100_000_000, Label = "Evaluate every N steps (0: each epoch)", Option = "--eval-every", Default = 0)]
    [Description("Evaluate every N steps (0: every epoch).")]
    public int? EvalEverySteps { get; init; }

    [Setting(1, 1_000_000_000, Label = "Evaluation images (empty: all)", Option = "--eval-images")]
    [Description("Evaluate on at most N validation images (default: all).")]
    public int? EvalMaxImages { get; init; }

    [Setting(0, 100_000_000, Label = "Checkpoint every N steps", Option = "--checkpoint-every", Default = 0)]
    [Description("Checkpoint every N steps (0: by time).")]
    public int? CheckpointEverySteps { get; init; }

    [Setting(0, 1_440, Label = "Checkpoint every N minutes", Option = "--checkpoint-minutes", Default = 10)]
    [Description("Checkpoint every N minutes (0: by steps; default: the worker's, 10).")]
    public double? CheckpointEveryMinutes { get; init; }

    [Setting(-LargestExactInteger, LargestExactInteger, Label = "Seed", Option = "--seed", Default = 0)]
    [Description("Seed for initialisation, data order and augmentation.")]
    public long? Seed { get; init; }

    /// <summary>Every setting, in the order forms and help list them.</summary>
    public static IReadOnlyList<SettingField> Fields { get; } = typeof(TrainingSettings)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetCustomAttribute<SettingAttribute>() is not null)
        .OrderBy(p => p.MetadataToken)
        .Select(Describe)
        .ToList();

    private static readonly ConcurrentDictionary<string, SettingField> ByName = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The setting with this JSON or property name.</summary>
    public static SettingField FieldOf(string name) => ByName.GetOrAdd(name, n =>
        Fields.FirstOrDefault(f => string.Equals(f.Name, n, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"'{n}' is not a training setting", nameof(name)));

    /// <summary>The value of <paramref name="field"/> in these settings, or null when unset.</summary>
    public double? this[SettingField field] =>
        field.Property.GetValue(this) is { } value ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : null;

    /// <summary>The values that are set, by field.</summary>
    [JsonIgnore]
    public IEnumerable<(SettingField Field, double Value)> Given =>
        Fields.Select(f => (Field: f, Value: this[f])).Where(v => v.Value is not null).Select(v => (v.Field, v.Value!.Value));

    /// <summary>
    /// These settings with <paramref name="field"/> set to <paramref name="value"/> (null: unset), converted to its type;
    /// a value its type cannot hold (a fraction for a whole number) is refused with the setting's problem.
    /// </summary>
    public TrainingSettings With(SettingField field, double? value)
    {
        var copy = this with { };
        var type = Nullable.GetUnderlyingType(field.Property.PropertyType)!;
        try
        {
            if (value is { } number && field.WholeNumber && Math.Floor(number) != number) throw new OverflowException();
            field.Property.SetValue(copy, value is null ? null : Convert.ChangeType(value.Value, type, CultureInfo.InvariantCulture));
        }
        catch (OverflowException)
        {
            throw new ArgumentException(field.Problem(value!.Value));
        }
        return copy;
    }

    /// <summary>The values that are set and refused, each with its problem in the words every entry point uses.</summary>
    public IReadOnlyList<(SettingField Field, string Problem)> Refused() =>
        Given.Where(v => !v.Field.Accepts(v.Value)).Select(v => (v.Field, v.Field.Problem(v.Value))).ToList();

    /// <summary>The problems of <see cref="Refused"/>, each naming its setting.</summary>
    public IReadOnlyList<string> Problems() => Refused().Select(r => r.Problem).ToList();

    /// <summary>These settings with every run setting that is left out given its default.</summary>
    public TrainingSettings WithRunDefaults() =>
        Fields.Where(f => f.Recipe is null && f.Default is not null && this[f] is null).Aggregate(this, (settings, f) => settings.With(f, f.Default));

    /// <summary>
    /// Settings read back from JSON objects that name them: <paramref name="recipe"/> by the recipe names (a configuration's
    /// <c>training</c>), <paramref name="run"/> by the settings' own names (a stored plan's <c>schedule</c>).
    /// </summary>
    public static TrainingSettings Read(JsonElement recipe, JsonElement run) =>
        Fields.Aggregate(new TrainingSettings(), (settings, field) =>
        {
            var source = field.Recipe is null ? run : recipe;
            return source.ValueKind == JsonValueKind.Object && source.TryGetProperty(field.Recipe ?? field.Name, out var value) && value.ValueKind == JsonValueKind.Number
                ? settings.With(field, value.GetDouble())
                : settings;
        });

    private static SettingField Describe(PropertyInfo property)
    {
        var setting = property.GetCustomAttribute<SettingAttribute>()!;
        var type = Nullable.GetUnderlyingType(property.PropertyType)
            ?? throw new InvalidOperationException($"{property.Name}: a setting is nullable, so that left out means the default");
        return new SettingField(
            JsonNamingPolicy.CamelCase.ConvertName(property.Name), setting.Label, setting.Option, setting.ShortOption,
            property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "", (double)setting.Minimum, (double)setting.Maximum,
            type != typeof(double) && type != typeof(float), setting.Recipe, double.IsNaN(setting.Default) ? null : setting.Default, property);
    }
}
