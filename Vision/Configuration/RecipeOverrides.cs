namespace SqueezeNext.Vision.Configuration;

/// <summary>Training-recipe values a user changes for one run (command-line options, job messages); null keeps the configuration's.</summary>
public sealed record RecipeOverrides(
    int? Epochs = null,
    int? BatchSize = null,
    double? LearningRate = null,
    int? WarmupSteps = null,
    double? WeightDecay = null,
    int? PreciseBatchNormBatches = null)
{
    /// <summary>The configuration with these values applied, validated (each problem names its field).</summary>
    public SqueezeNextConfiguration ApplyTo(SqueezeNextConfiguration configuration)
    {
        var recipe = configuration.Training;
        return (configuration with
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
        }).EnsureValid();
    }
}
