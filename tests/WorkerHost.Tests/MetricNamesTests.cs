using System.Reflection;
using SqueezeNext.Contracts;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.WorkerHost.Tests;

[Trait("Level", "unit")]
public sealed class MetricNamesTests
{
    private static Dictionary<string, string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void The_messages_name_every_metric_as_the_engine_does()
    {
        Assert.Equal(Constants(typeof(TrainingMetrics)), Constants(typeof(RunMetricNames)));
        Assert.Equal(TrainingMetrics.All, RunMetricNames.All);
    }
}
