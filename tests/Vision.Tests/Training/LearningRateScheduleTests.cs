using SqueezeNext.Vision.Training;

namespace SqueezeNext.Vision.Tests.Training;

[Trait("Level", "unit")]
public class LearningRateScheduleTests
{
    // v_1_0_SqNxt_23 at batch 256: 5,004 steps per epoch × 120 epochs.
    private static readonly PolynomialWarmupSchedule TfDefault =
        PolynomialWarmupSchedule.For(ConfigurationCatalog.Get("v_1_0_SqNxt_23").Training, 600_480);

    [Theory]
    [InlineData(0, 0.025, 1e-12)]
    [InlineData(1560, 0.0622, 5e-5)]
    [InlineData(3120, 0.09897, 1e-5)]
    [InlineData(300240, 0.02508, 5e-6)]
    [InlineData(600480, 0.0001, 1e-12)]
    public void Matches_the_check_values_of_the_TF_recipe(long step, double expected, double tolerance)
    {
        Assert.InRange(TfDefault.At(step), expected - tolerance, expected + tolerance);
    }

    [Fact]
    public void Warmup_is_linear_towards_the_decaying_curve_and_the_decay_is_monotone_after_it()
    {
        var values = Enumerable.Range(0, 600_481).Where(s => s % 1000 == 0 || s < 3200).Select(s => TfDefault.At(s)).ToArray();

        Assert.True(TfDefault.At(3119) < TfDefault.At(3120) + 1e-6);
        var decay = Enumerable.Range(3120, 600_480 - 3120).Where(s => s % 997 == 0).Select(s => TfDefault.At(s)).ToArray();
        Assert.True(decay.Zip(decay.Skip(1), (a, b) => a >= b).All(ok => ok));
        Assert.All(values, v => Assert.InRange(v, 0.0001, 0.1));
    }

    [Fact]
    public void Steps_past_the_end_stay_at_the_end_rate_and_caffe_decays_to_zero()
    {
        Assert.Equal(0.0001, TfDefault.At(700_000), 12);
        var caffe = PolynomialWarmupSchedule.For(ConfigurationCatalog.Get("1.0-SqNxt-23").Training, 150_136);
        Assert.Equal(0.1, caffe.At(0), 12);
        Assert.Equal(0.4, caffe.At(780), 2);
        Assert.Equal(0.0, caffe.At(150_136), 12);
    }
}
