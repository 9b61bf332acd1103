using System.Text.Json;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// A training run, planned: the configuration with the user's recipe values applied and its outputs fitted to the
/// dataset, the label order, and the run's settings with every recipe value resolved. Made once, by <see cref="Create"/>;
/// a job system stores it with the run (<see cref="ToJson"/>) and trains from it on every attempt.
/// </summary>
public sealed record TrainingPlan
{
    public required SqueezeNextConfiguration Configuration { get; init; }

    /// <summary>Class names in label order (the dataset's, or the ImageNet synsets for a 1000-output network on them).</summary>
    public required IReadOnlyList<string> ClassOrder { get; init; }

    /// <summary>Labels stored in the model; null means the 1000 ImageNet classes.</summary>
    public IReadOnlyList<string>? ModelClasses { get; init; }

    /// <summary>The run's settings, recipe values included as resolved.</summary>
    public required RunSettings Settings { get; init; }

    /// <summary>Why the plan differs from what was asked (the network's outputs fitted to the dataset), or null.</summary>
    public string? Note { get; init; }

    /// <summary>
    /// Plans a run: a pure function of the configuration, the user's settings and the dataset's classes. Throws
    /// <see cref="InvalidConfigurationException"/> naming every invalid field, recipe and run settings together.
    /// </summary>
    public static TrainingPlan Create(SqueezeNextConfiguration configuration, RunSettings settings, IReadOnlyList<string> datasetClasses)
    {
        var resolved = settings.ApplyTo(configuration);
        var problems = resolved.Validate().Concat(settings.ValidateRunFields()).ToList();
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);
        var labels = LabelSpace.For(resolved, datasetClasses);
        return new TrainingPlan
        {
            Configuration = labels.Configuration,
            ClassOrder = labels.ClassOrder,
            ModelClasses = labels.ModelClasses,
            Settings = settings.ResolvedWith(labels.Configuration.Training),
            Note = labels.Note,
        };
    }

    /// <summary>Total optimiser steps for a dataset of <paramref name="stepsPerEpoch"/> batches per epoch.</summary>
    public long TotalSteps(int stepsPerEpoch) => Settings.MaxSteps ?? (long)Configuration.Training.Epochs * stepsPerEpoch;

    /// <summary>
    /// Names of the settings in which <paramref name="other"/> differs from this plan, and "architecture" if the network
    /// differs (recipe values show up as the settings that set them).
    /// </summary>
    public IReadOnlyList<string> ChangesFrom(TrainingPlan other)
    {
        var changes = new List<string>();
        if (JsonSerializer.Serialize(Configuration.Architecture, ConfigurationJson.Options) !=
            JsonSerializer.Serialize(other.Configuration.Architecture, ConfigurationJson.Options)) changes.Add("architecture");
        var mine = JsonSerializer.SerializeToElement(Settings, ConfigurationJson.Options);
        var theirs = JsonSerializer.SerializeToElement(other.Settings, ConfigurationJson.Options);
        foreach (var setting in mine.EnumerateObject())
        {
            var before = theirs.TryGetProperty(setting.Name, out var value) ? value.GetRawText() : null;
            if (before != setting.Value.GetRawText()) changes.Add(setting.Name);
        }
        return changes;
    }

    public string ToJson() => JsonSerializer.Serialize(this, ConfigurationJson.Options);

    public static TrainingPlan FromJson(string json, string origin) =>
        JsonSerializer.Deserialize<TrainingPlan>(json, ConfigurationJson.Options) ?? throw new InvalidDataException($"{origin}: no training plan");
}
