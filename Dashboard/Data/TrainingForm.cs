using System.Text.Json;
using SqueezeNext.Contracts;
using SqueezeNext.Contracts.Settings;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Data;

/// <summary>
/// The new-training form: a configuration, a dataset, a name, and the run's <see cref="TrainingSettings"/>, whose
/// fields the page lists, whose defaults the chosen configuration fills in, and whose checks the form shows in the
/// words the API and the workers use.
/// </summary>
public sealed class TrainingForm
{
    public const string CustomConfiguration = "(custom JSON)";
    public const int MaxNameLength = 200;

    public string Configuration { get; set; } = "";

    /// <summary>A configuration document (a base and overrides) when <see cref="Configuration"/> is custom.</summary>
    public string? ConfigurationJson { get; set; }

    public string Dataset { get; set; } = "";

    public string? Name { get; set; }

    // The values as typed, checked by Problems before they become settings: a whole-number setting may hold 1.5 here.
    private readonly Dictionary<string, double?> entered = [];

    /// <summary>A setting as entered; one left empty is sent unset, for the configuration's or the setting's default.</summary>
    public double? this[SettingField field]
    {
        get => entered.GetValueOrDefault(field.Name);
        set => entered[field.Name] = value;
    }

    /// <summary>The settings entered (set only when <see cref="Problems"/> finds none).</summary>
    public TrainingSettings Settings
    {
        get => TrainingSettings.Fields.Aggregate(new TrainingSettings(), (settings, setting) => settings.With(setting, this[setting]));
        set
        {
            foreach (var setting in TrainingSettings.Fields) this[setting] = value[setting];
        }
    }

    /// <summary>What stops the form from being sent, keyed by the property (<see cref="Configuration"/>, <see cref="Dataset"/>, <see cref="Name"/>) or the setting it is about.</summary>
    public IReadOnlyDictionary<string, string> Problems()
    {
        var problems = new Dictionary<string, string>();
        if (string.IsNullOrWhiteSpace(Configuration)) problems[nameof(Configuration)] = "Choose a configuration.";
        if (string.IsNullOrWhiteSpace(Dataset)) problems[nameof(Dataset)] = "Choose a dataset.";
        if (Name is { Length: > MaxNameLength }) problems[nameof(Name)] = $"The name can be at most {MaxNameLength} characters.";
        foreach (var field in TrainingSettings.Fields)
            if (this[field] is { } value && !field.Accepts(value)) problems[field.Name] = field.Problem(value);
        return problems;
    }

    /// <summary>Takes the settings' defaults: the recipe values of the configuration document, and the run settings' own.</summary>
    public void ApplyDefaults(string configurationJson)
    {
        using var document = JsonDocument.Parse(configurationJson);
        document.RootElement.TryGetProperty("training", out var training);
        Settings = TrainingSettings.Read(training, default).WithRunDefaults();
    }

    /// <summary>The form for a clone of <paramref name="run"/>: everything its stored plan ran with.</summary>
    public static TrainingForm CloneOf(Run run)
    {
        using var plan = JsonDocument.Parse(run.PlanJson);
        var root = plan.RootElement;
        var training = root.TryGetProperty("configuration", out var configuration) && configuration.TryGetProperty("training", out var recipe) ? recipe : default;
        return new TrainingForm
        {
            Configuration = run.ConfigurationName,
            Dataset = run.Dataset,
            Name = $"{run.Name} (clone)",
            Settings = TrainingSettings.Read(training, root.TryGetProperty("schedule", out var schedule) ? schedule : default),
        };
    }

    public SubmitTraining ToCommand(Guid runId, string? customJson = null) => new(
        runId,
        Configuration == CustomConfiguration ? "" : Configuration,
        Dataset,
        ConfigurationJson: Configuration == CustomConfiguration ? customJson ?? ConfigurationJson : customJson,
        Name: string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
        Settings: Settings);
}
