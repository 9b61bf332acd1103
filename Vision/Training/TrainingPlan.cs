using System.Text.Json;
using System.Text.Json.Nodes;
using SqueezeNext.Contracts;
using SqueezeNext.Contracts.Settings;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// A training run, planned: the configuration with the user's recipe values applied and its outputs fitted to the
/// dataset, the label order, and the run's own settings resolved. Each value is in one place: a recipe value in
/// <see cref="Configuration"/>, a run setting in <see cref="Schedule"/>. Made once, by <see cref="Create"/>; a job system
/// stores it with the run (<see cref="ToJson"/>) and trains from it on every attempt.
/// </summary>
public sealed record TrainingPlan
{
    public required SqueezeNextConfiguration Configuration { get; init; }

    /// <summary>Class names in label order (the dataset's, or the ImageNet synsets for a 1000-output network on them).</summary>
    public required IReadOnlyList<string> ClassOrder { get; init; }

    /// <summary>Labels stored in the model; null means the 1000 ImageNet classes.</summary>
    public IReadOnlyList<string>? ModelClasses { get; init; }

    /// <summary>The run's own settings (length, evaluation, checkpoints, seed), resolved.</summary>
    public required RunSchedule Schedule { get; init; }

    /// <summary>Why the plan differs from what was asked (the network's outputs fitted to the dataset), or null.</summary>
    public string? Note { get; init; }

    /// <summary>
    /// Plans a run: a pure function of the configuration, the user's settings and the dataset's classes. Throws
    /// <see cref="InvalidConfigurationException"/> naming every invalid field, recipe and run settings together.
    /// </summary>
    public static TrainingPlan Create(SqueezeNextConfiguration configuration, TrainingSettings settings, IReadOnlyList<string> datasetClasses)
    {
        var problems = settings.Problems().ToList();
        // A refused value is not applied, so the configuration's check does not name it a second time under its recipe name.
        var resolved = WithRecipeValues(configuration, settings.Given.Where(v => v.Field.Recipe is not null && v.Field.Accepts(v.Value)));
        problems.AddRange(resolved.Validate());
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);
        var labels = LabelSpace.For(resolved, datasetClasses);
        return new TrainingPlan
        {
            Configuration = labels.Configuration,
            ClassOrder = labels.ClassOrder,
            ModelClasses = labels.ModelClasses,
            Schedule = RunSchedule.From(settings),
            Note = labels.Note,
        };
    }

    /// <summary>The settings this plan runs with, every one resolved: recipe values from its configuration, run settings from its schedule.</summary>
    public TrainingSettings ResolvedSettings() => TrainingSettings.Read(
        JsonSerializer.SerializeToElement(Configuration.Training, ConfigurationJson.Options), JsonSerializer.SerializeToElement(Schedule, ConfigurationJson.Options));

    /// <summary>The configuration with recipe values set by their JSON names (<c>training.X</c>), whatever the values' types.</summary>
    private static SqueezeNextConfiguration WithRecipeValues(SqueezeNextConfiguration configuration, IEnumerable<(SettingField Field, double Value)> values)
    {
        var document = JsonSerializer.SerializeToNode(configuration, ConfigurationJson.Options)!.AsObject();
        var training = document["training"]!.AsObject();
        foreach (var (field, value) in values)
            training[field.Recipe!] = field.WholeNumber ? JsonValue.Create((long)value) : JsonValue.Create(value);
        return document.Deserialize<SqueezeNextConfiguration>(ConfigurationJson.Options)!;
    }

    /// <summary>Total optimiser steps for a dataset of <paramref name="stepsPerEpoch"/> batches per epoch.</summary>
    public long TotalSteps(int stepsPerEpoch) => Schedule.MaxSteps ?? (long)Configuration.Training.Epochs * stepsPerEpoch;

    /// <summary>
    /// Names of the settings in which <paramref name="other"/> differs from this plan, and "architecture" if the network
    /// differs (recipe values show up as the settings that set them).
    /// </summary>
    public IReadOnlyList<string> ChangesFrom(TrainingPlan other)
    {
        var changes = new List<string>();
        if (JsonSerializer.Serialize(Configuration.Architecture, ConfigurationJson.Options) !=
            JsonSerializer.Serialize(other.Configuration.Architecture, ConfigurationJson.Options)) changes.Add("architecture");
        TrainingSettings mine = ResolvedSettings(), theirs = other.ResolvedSettings();
        changes.AddRange(TrainingSettings.Fields.Where(f => mine[f] != theirs[f]).Select(f => f.Name));
        return changes;
    }

    public string ToJson() => JsonSerializer.Serialize(this, ConfigurationJson.Options);

    public static TrainingPlan FromJson(string json, string origin)
    {
        var plan = JsonSerializer.Deserialize<TrainingPlan>(json, ConfigurationJson.Options) ?? throw new InvalidDataException($"{origin}: no training plan");
        return plan.ClassOrder is null
            ? throw new InvalidDataException($"{origin}: planned by a version that did not record the dataset's classes; submit the run again")
            : plan;
    }
}
