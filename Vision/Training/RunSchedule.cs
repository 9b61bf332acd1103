using SqueezeNext.Contracts;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// A planned run's own settings, resolved: its length, when it evaluates and checkpoints, and its seed. The recipe
/// values a user set are in the plan's configuration instead, so each value has one place. Made from
/// <see cref="TrainingSettings"/> by name (<see cref="From"/>), so its properties are named as those settings.
/// </summary>
public sealed record RunSchedule
{
    /// <summary>Total optimiser steps instead of the recipe's epochs; null: by epochs.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Evaluate every N steps; 0: at the end of each epoch.</summary>
    public int EvalEverySteps { get; init; }

    /// <summary>Evaluate on at most this many validation images (the first ones); null: all.</summary>
    public int? EvalMaxImages { get; init; }

    /// <summary>Write a checkpoint every N steps (0: by time only).</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Write a checkpoint when this many minutes passed since the last (0: by steps only).</summary>
    public double CheckpointEveryMinutes { get; init; }

    /// <summary>Seeds initialisation, data order and augmentation.</summary>
    public long Seed { get; init; }

    /// <summary>The run settings of <paramref name="settings"/> (defaults filled), matched to these properties by name.</summary>
    public static RunSchedule From(TrainingSettings settings)
    {
        var resolved = settings.WithRunDefaults();
        var schedule = new RunSchedule();
        foreach (var field in TrainingSettings.Fields.Where(f => f.Recipe is null))
        {
            var property = typeof(RunSchedule).GetProperty(field.Property.Name)
                ?? throw new InvalidOperationException($"the run setting {field.Name} has no place in {nameof(RunSchedule)}");
            if (resolved[field] is not { } value) continue;
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            property.SetValue(schedule, Convert.ChangeType(value, type, System.Globalization.CultureInfo.InvariantCulture));
        }
        return schedule;
    }
}
