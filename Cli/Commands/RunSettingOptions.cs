using System.Globalization;
using SqueezeNext.Contracts;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// The training-run settings as options of <c>sqnxt train</c>, <c>sqnxt submit train</c> and <c>sqnxt bus train</c>, named and described by
/// the engine's one definition of them (<see cref="RunSettings.Fields"/>); the planner validates what they read.
/// </summary>
public sealed class RunSettingOptions
{
    private readonly Option<int?> epochs = Create<int?>(RunSettings.EpochsField);
    private readonly Option<long?> maxSteps = Create<long?>(RunSettings.MaxStepsField);
    private readonly Option<int?> batchSize = Create<int?>(RunSettings.BatchSizeField, "-b");
    private readonly Option<double?> learningRate = Create<double?>(RunSettings.LearningRateField);
    private readonly Option<int?> warmupSteps = Create<int?>(RunSettings.WarmupStepsField);
    private readonly Option<double?> weightDecay = Create<double?>(RunSettings.WeightDecayField);
    private readonly Option<int?> preciseBatchNorm = Create<int?>(RunSettings.PreciseBatchNormField);
    private readonly Option<int?> evalEverySteps = Create<int?>(RunSettings.EvalEveryStepsField);
    private readonly Option<int?> evalMaxImages = Create<int?>(RunSettings.EvalMaxImagesField);
    private readonly Option<int?> checkpointEverySteps = Create<int?>(RunSettings.CheckpointEveryStepsField);
    private readonly Option<double?> checkpointEveryMinutes = Create<double?>(RunSettings.CheckpointEveryMinutesField);
    private readonly Option<long?> seed = Create<long?>(RunSettings.SeedField);

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[]
                 {
                     epochs, maxSteps, batchSize, learningRate, warmupSteps, weightDecay, preciseBatchNorm, evalEverySteps, evalMaxImages,
                     checkpointEverySteps, checkpointEveryMinutes, seed,
                 })
            command.Options.Add(option);
    }

    /// <summary>The settings given; what is left out keeps the configuration's value or the engine's default.</summary>
    public RunSettings Read(ParseResult parse)
    {
        var defaults = new RunSettings();
        return new RunSettings
        {
            Epochs = parse.GetValue(epochs),
            MaxSteps = parse.GetValue(maxSteps),
            BatchSize = parse.GetValue(batchSize),
            LearningRate = parse.GetValue(learningRate),
            WarmupSteps = parse.GetValue(warmupSteps),
            WeightDecay = parse.GetValue(weightDecay),
            PreciseBatchNormBatches = parse.GetValue(preciseBatchNorm),
            EvalEverySteps = parse.GetValue(evalEverySteps) ?? defaults.EvalEverySteps,
            EvalMaxImages = parse.GetValue(evalMaxImages),
            CheckpointEverySteps = parse.GetValue(checkpointEverySteps) ?? defaults.CheckpointEverySteps,
            CheckpointEveryMinutes = parse.GetValue(checkpointEveryMinutes) ?? defaults.CheckpointEveryMinutes,
            Seed = parse.GetValue(seed) ?? defaults.Seed,
        };
    }

    /// <summary>The command with the settings given; those left out stay null, for the worker's defaults.</summary>
    public SubmitTraining ApplyTo(SubmitTraining command, ParseResult parse) => command with
    {
        Epochs = parse.GetValue(epochs),
        MaxSteps = parse.GetValue(maxSteps),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        WarmupSteps = parse.GetValue(warmupSteps),
        WeightDecay = parse.GetValue(weightDecay),
        PreciseBatchNormBatches = parse.GetValue(preciseBatchNorm),
        EvalEverySteps = parse.GetValue(evalEverySteps),
        EvalMaxImages = parse.GetValue(evalMaxImages),
        CheckpointEverySteps = parse.GetValue(checkpointEverySteps),
        CheckpointEveryMinutes = parse.GetValue(checkpointEveryMinutes),
        Seed = parse.GetValue(seed),
    };

    private static Option<T> Create<T>(SettingField field, string? alias = null)
    {
        string Format(double value) => value.ToString(field.WholeNumber ? "N0" : "G", CultureInfo.InvariantCulture);
        var option = new Option<T>(field.Option) { Description = $"{field.Description} Range {Format(field.Minimum)} to {Format(field.Maximum)}." };
        if (alias is not null) option.Aliases.Add(alias);
        return option;
    }
}
