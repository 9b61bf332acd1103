using SqueezeNext.Vision.Training;

namespace SqueezeNext.Vision.Tests.Training;

/// <summary>Planning: the settings land where the loop reads them, once, and a refused one is named in the settings' words.</summary>
[Trait("Level", "unit")]
public sealed class TrainingPlanTests
{
    private static readonly IReadOnlyList<string> Classes = ["cat", "dog"];

    private static SqueezeNextConfiguration Configuration => ConfigurationCatalog.Get("1.0-SqNxt-23-28px");

    [Fact]
    public void Recipe_settings_land_in_the_configuration_and_run_settings_in_the_schedule_with_their_defaults()
    {
        var plan = TrainingPlan.Create(Configuration, new TrainingSettings { BatchSize = 16, LearningRate = 0.05, LabelSmoothing = 0.1, MaxSteps = 30 }, Classes);

        Assert.Equal((16, 0.05, 0.1), (plan.Configuration.Training.BatchSize, plan.Configuration.Training.BaseLearningRate, plan.Configuration.Training.LabelSmoothing));
        Assert.Equal(Configuration.Training.Epochs, plan.Configuration.Training.Epochs);
        Assert.Equal(new RunSchedule { MaxSteps = 30, EvalEverySteps = 0, CheckpointEverySteps = 0, CheckpointEveryMinutes = 10, Seed = 0 }, plan.Schedule);
        Assert.Equal(0.1, plan.ResolvedSettings().LabelSmoothing);
    }

    [Fact]
    public void A_stored_plan_keeps_each_value_once()
    {
        var json = TrainingPlan.Create(Configuration, new TrainingSettings { BatchSize = 16, Seed = 4 }, Classes).ToJson();

        using var document = System.Text.Json.JsonDocument.Parse(json);
        var schedule = document.RootElement.GetProperty("schedule");
        Assert.False(schedule.TryGetProperty("batchSize", out _));
        Assert.Equal(4, schedule.GetProperty("seed").GetInt64());
        Assert.Equal(16, document.RootElement.GetProperty("configuration").GetProperty("training").GetProperty("batchSize").GetInt32());
        Assert.Equal(TrainingPlan.FromJson(json, "test").ResolvedSettings(), TrainingPlan.Create(Configuration, new TrainingSettings { BatchSize = 16, Seed = 4 }, Classes).ResolvedSettings());
    }

    [Fact]
    public void Every_refused_setting_and_recipe_value_is_named_once()
    {
        var configuration = Configuration with { Training = Configuration.Training with { LabelSmoothing = 0.7, Momentum = 1 } };

        var error = Assert.Throws<InvalidConfigurationException>(() =>
            TrainingPlan.Create(configuration, new TrainingSettings { BatchSize = 0, LearningRate = 0 }, Classes));

        Assert.Equal(
            ["batchSize: 0 is outside 1..65536", "learningRate: 0 is outside 1E-09..100", "training.labelSmoothing: 0.7 is outside 0..0.5", "training.momentum: 1 must be a number in [0, 1)"],
            error.Problems.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_plan_that_lacks_its_classes_is_refused_with_the_way_out()
    {
        var plan = System.Text.Json.Nodes.JsonNode.Parse(TrainingPlan.Create(Configuration, new TrainingSettings(), Classes).ToJson())!;
        plan["classOrder"] = null;

        var error = Assert.Throws<InvalidDataException>(() => TrainingPlan.FromJson(plan.ToJsonString(), "run 7"));

        Assert.Equal("run 7: planned by a version that did not record the dataset's classes; submit the run again", error.Message);
    }

    [Fact]
    public void Label_smoothing_spreads_the_target_over_every_class()
    {
        using var logits = tensor(new float[] { 2, 0, -1, 0.5f, 1, 3 }).reshape(2, 3);
        using var labels = tensor(new long[] { 0, 2 });
        const double smoothing = 0.2;

        using var loss = (Configuration.Training with { LabelSmoothing = smoothing }).Loss(logits, labels);

        using var logProbabilities = logits.log_softmax(1);
        using var picked = logProbabilities.gather(1, labels.unsqueeze(1)).squeeze(1);
        using var uniform = logProbabilities.mean([1]);
        double expected = -((1 - smoothing) * picked + smoothing * uniform).mean().item<float>();
        Assert.Equal(expected, loss.item<float>(), 5);
        using var plain = Configuration.Training.Loss(logits, labels);
        Assert.Equal(-picked.mean().item<float>(), plain.item<float>(), 5);
    }
}
