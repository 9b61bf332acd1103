namespace SqueezeNext.Vision.Training;

/// <summary>
/// The TF port's learning rate (SQUEEZENEXT.md §5): polynomial decay
/// poly(g) = (base − end)·(1 − min(g, T)/T)^power + end, preceded by a linear warmup from w0 over W steps:
/// lr(g) = w0 + g·(poly(g) − w0)/W for g &lt; W, else poly(g).
/// </summary>
public sealed record PolynomialWarmupSchedule(
    double BaseLearningRate,
    double EndLearningRate,
    double Power,
    long TotalSteps,
    long WarmupSteps,
    double WarmupStartLearningRate)
{
    public static PolynomialWarmupSchedule For(TrainingRecipe recipe, long totalSteps) =>
        new(recipe.BaseLearningRate, recipe.EndLearningRate, recipe.PolyPower, totalSteps, recipe.WarmupSteps, recipe.WarmupStartLearningRate);

    public double At(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step));
        double progress = TotalSteps <= 0 ? 1 : Math.Min(step, TotalSteps) / (double)TotalSteps;
        double poly = (BaseLearningRate - EndLearningRate) * Math.Pow(1 - progress, Power) + EndLearningRate;
        return step < WarmupSteps
            ? WarmupStartLearningRate + step * (poly - WarmupStartLearningRate) / WarmupSteps
            : poly;
    }
}
