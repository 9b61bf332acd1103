using System.Globalization;

namespace SqueezeNext.Vision.Configuration;

/// <summary>
/// What a user chooses for one training run on top of its configuration: recipe values (null keeps the
/// configuration's) and the run's length, evaluation, checkpoint and seed settings. With <see cref="Fields"/> this is
/// the one definition of these settings: the CLI builds its options from it, the planner validates with it, and the
/// dashboard's form reads it from the database, where the worker publishes it.
/// </summary>
public sealed record RunSettings
{
    public int? Epochs { get; init; }

    /// <summary>Total optimiser steps instead of epochs.</summary>
    public long? MaxSteps { get; init; }

    public int? BatchSize { get; init; }
    public double? LearningRate { get; init; }
    public int? WarmupSteps { get; init; }
    public double? WeightDecay { get; init; }
    public int? PreciseBatchNormBatches { get; init; }

    /// <summary>Evaluate every N steps; 0: at the end of each epoch.</summary>
    public int EvalEverySteps { get; init; }

    /// <summary>Evaluate on at most this many validation images (the first ones); null: all.</summary>
    public int? EvalMaxImages { get; init; }

    /// <summary>Write a checkpoint every N steps (0: by time only).</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Write a checkpoint when this many minutes passed since the last (0: by steps only).</summary>
    public double CheckpointEveryMinutes { get; init; } = 10;

    /// <summary>Seeds initialisation, data order and augmentation.</summary>
    public long Seed { get; init; }

    private const double LargestExactInteger = 9_007_199_254_740_991;

    public static readonly SettingField EpochsField = new("epochs", "Epochs", "--epochs", "Passes over the training set (default: the configuration's).", 1, 10_000, RecipeName: "epochs");
    public static readonly SettingField MaxStepsField = new("maxSteps", "Steps (instead of epochs)", "--steps", "Total optimiser steps instead of epochs.", 1, 1_000_000_000);
    public static readonly SettingField BatchSizeField = new("batchSize", "Batch size", "--batch-size", "Images per step (default: the configuration's).", 1, 65_536, RecipeName: "batchSize");
    public static readonly SettingField LearningRateField = new("learningRate", "Base learning rate", "--lr", "Base learning rate (default: the configuration's).", 1e-9, 100, WholeNumber: false, RecipeName: "baseLearningRate");
    public static readonly SettingField WarmupStepsField = new("warmupSteps", "Warmup steps", "--warmup-steps", "Linear warmup steps (default: the configuration's).", 0, 100_000_000, RecipeName: "warmupSteps");
    public static readonly SettingField WeightDecayField = new("weightDecay", "Weight decay", "--weight-decay", "L2 weight decay (default: the configuration's).", 0, 1, WholeNumber: false, RecipeName: "weightDecay");
    public static readonly SettingField PreciseBatchNormField = new("preciseBatchNormBatches", "Precise-BN batches", "--precise-bn", "Recompute BatchNorm statistics over N training batches before evaluating (default: the configuration's).", 0, 10_000, RecipeName: "preciseBatchNormBatches");
    public static readonly SettingField EvalEveryStepsField = new("evalEverySteps", "Evaluate every N steps (0: each epoch)", "--eval-every", "Evaluate every N steps (0: every epoch).", 0, 100_000_000, Default: 0);
    public static readonly SettingField EvalMaxImagesField = new("evalMaxImages", "Evaluation images (empty: all)", "--eval-images", "Evaluate on at most N validation images (default: all).", 1, 1_000_000_000);
    public static readonly SettingField CheckpointEveryStepsField = new("checkpointEverySteps", "Checkpoint every N steps", "--checkpoint-every", "Checkpoint every N steps (0: by time).", 0, 100_000_000, Default: 0);
    public static readonly SettingField CheckpointEveryMinutesField = new("checkpointEveryMinutes", "Checkpoint every N minutes", "--checkpoint-minutes", "Checkpoint every N minutes (0: by steps).", 0, 1_440, WholeNumber: false, Default: 10);
    public static readonly SettingField SeedField = new("seed", "Seed", "--seed", "Seed for initialisation, data order and augmentation.", -LargestExactInteger, LargestExactInteger, Default: 0);

    /// <summary>Every setting, in the order forms and help list them.</summary>
    public static IReadOnlyList<SettingField> Fields { get; } =
    [
        EpochsField, MaxStepsField, BatchSizeField, LearningRateField, WarmupStepsField, WeightDecayField, PreciseBatchNormField,
        EvalEveryStepsField, EvalMaxImagesField, CheckpointEveryStepsField, CheckpointEveryMinutesField, SeedField,
    ];

    /// <summary>The values of every field (null where unset), by field.</summary>
    public IEnumerable<(SettingField Field, double? Value)> Values() =>
    [
        (EpochsField, Epochs), (MaxStepsField, MaxSteps), (BatchSizeField, BatchSize), (LearningRateField, LearningRate),
        (WarmupStepsField, WarmupSteps), (WeightDecayField, WeightDecay), (PreciseBatchNormField, PreciseBatchNormBatches),
        (EvalEveryStepsField, EvalEverySteps), (EvalMaxImagesField, EvalMaxImages), (CheckpointEveryStepsField, CheckpointEverySteps),
        (CheckpointEveryMinutesField, CheckpointEveryMinutes), (SeedField, Seed),
    ];

    /// <summary>
    /// Problems with the run's own settings, each naming its field. The recipe values are checked where they land,
    /// in the configuration's recipe (<see cref="TrainingRecipe.Validate"/>), against the same fields.
    /// </summary>
    public IReadOnlyList<string> ValidateRunFields() =>
        Values().Where(v => v.Field.RecipeName is null && v.Value is { } value && !v.Field.Accepts(value))
            .Select(v => v.Field.Problem(v.Field.Name, v.Value!.Value))
            .ToList();

    /// <summary>The configuration with these recipe values applied (not validated here).</summary>
    public SqueezeNextConfiguration ApplyTo(SqueezeNextConfiguration configuration)
    {
        var recipe = configuration.Training;
        return configuration with
        {
            Training = recipe with
            {
                Epochs = Epochs ?? recipe.Epochs,
                BatchSize = BatchSize ?? recipe.BatchSize,
                BaseLearningRate = LearningRate ?? recipe.BaseLearningRate,
                WarmupSteps = WarmupSteps ?? recipe.WarmupSteps,
                WeightDecay = WeightDecay ?? recipe.WeightDecay,
                PreciseBatchNormBatches = PreciseBatchNormBatches ?? recipe.PreciseBatchNormBatches,
            },
        };
    }

    /// <summary>These settings with every recipe value taken from <paramref name="recipe"/>: what a run really uses.</summary>
    public RunSettings ResolvedWith(TrainingRecipe recipe) => this with
    {
        Epochs = recipe.Epochs,
        BatchSize = recipe.BatchSize,
        LearningRate = recipe.BaseLearningRate,
        WarmupSteps = recipe.WarmupSteps,
        WeightDecay = recipe.WeightDecay,
        PreciseBatchNormBatches = recipe.PreciseBatchNormBatches,
    };
}

/// <summary>
/// One run setting: its JSON name, its label in forms, its command-line option, its range and its default (null: the
/// configuration's value, named <see cref="RecipeName"/> in its recipe, or unset).
/// </summary>
public sealed record SettingField(string Name, string Label, string Option, string Description, double Minimum, double Maximum,
    bool WholeNumber = true, string? RecipeName = null, double? Default = null)
{
    public bool Accepts(double value) =>
        double.IsFinite(value) && value >= Minimum && value <= Maximum && (!WholeNumber || Math.Floor(value) == value);

    /// <summary>The problem with <paramref name="value"/>, under <paramref name="path"/> (its JSON path where it is checked).</summary>
    public string Problem(string path, double value) =>
        double.IsFinite(value) && value >= Minimum && value <= Maximum
            ? $"{path}: {Format(value)} is not a whole number"
            : $"{path}: {Format(value)} is outside {Format(Minimum)}..{Format(Maximum)}";

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
