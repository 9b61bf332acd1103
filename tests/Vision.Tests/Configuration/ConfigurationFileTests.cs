namespace SqueezeNext.Vision.Tests.Configuration;

[Trait("Level", "unit")]
public class ConfigurationFileTests
{
    [Fact]
    public void A_user_file_extends_its_base_with_the_fields_it_overrides()
    {
        var configuration = ConfigurationFile.Parse("""
            {
              // comments are allowed
              "base": "v_1_0_SqNxt_23",
              "name": "sqnxt23-fashion",
              "architecture": { "numClasses": 10, "inputSize": 32 },
              "training": { "batchSize": 128, "baseLearningRate": 0.05 }
            }
            """, "fashion.json");

        var baseConfiguration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        Assert.Equal("sqnxt23-fashion", configuration.Name);
        Assert.Equal(10, configuration.Architecture.NumClasses);
        Assert.Equal(32, configuration.Architecture.InputSize);
        Assert.Equal(baseConfiguration.Architecture.StageWidths, configuration.Architecture.StageWidths);
        Assert.Equal(128, configuration.Training.BatchSize);
        Assert.Equal(0.05, configuration.Training.BaseLearningRate);
        Assert.Equal(baseConfiguration.Training.WarmupSteps, configuration.Training.WarmupSteps);
        Assert.Contains("based on v_1_0_SqNxt_23", configuration.Source);
    }

    [Fact]
    public void A_complete_configuration_round_trips_through_json()
    {
        var original = ConfigurationCatalog.Get("1.0-SqNxt-23v5");

        var parsed = ConfigurationFile.Parse(ConfigurationJson.Serialize(original));

        Assert.True(parsed.Architecture.SameAs(original.Architecture));
        Assert.Equal(original.Training, parsed.Training);
        Assert.Equal(original.Name, parsed.Name);
    }

    [Theory]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "architecture": { "stageWidth": [1] } }""", "architecture.stageWidth: unknown field (did you mean 'stageWidths'?)")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "learning_rate": 1 } }""", "training.learning_rate: unknown field")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "optimizer": "adam" }""", "optimizer: unknown field")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "epochs": -3 } }""", "training.epochs: -3 is outside 1..10000")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "batchSize": 0 } }""", "training.batchSize: 0 is outside 1..65536")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "baseLearningRate": -0.1 } }""", "training.baseLearningRate: -0.1 is outside 1E-09..100")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "labelSmoothing": 0.6 } }""", "training.labelSmoothing: 0.6 is outside 0..0.5")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "batchSize": "big" } }""", "training.batchSize: invalid value, expected a whole number")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "architecture": { "firstBlockStyle": "Sideways" } }""", "architecture.firstBlockStyle: invalid value, expected one of Parallel, ProjectionFirst")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "architecture": { "stageWidths": [32, 64, 130, 256] } }""", "architecture.stageWidths[2]: 130 is not a positive multiple of 4")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "architecture": { "blocksPerStage": [6, 6, 8] } }""", "architecture.blocksPerStage: needs one entry per stage (4), has 3")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", "architecture": { "groups": 3 } }""", "architecture.groups: 3 is not 1, 2 or 4")]
    [InlineData("""{ "base": "v_9_SqNxt", "name": "x" }""", "base: unknown configuration 'v_9_SqNxt'")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23" }""", "name: a configuration that extends a base needs a name of its own")]
    [InlineData("""{ "base": "v_1_0_SqNxt_23", "name": "x", """, "not valid JSON")]
    [InlineData("""[1, 2]""", "must hold one JSON object")]
    public void Invalid_files_are_rejected_with_a_message_that_names_the_field(string json, string expected)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => ConfigurationFile.Parse(json));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => ConfigurationFile.Parse(
            """{ "base": "v_1_0_SqNxt_23", "name": "x", "training": { "epochs": 0, "momentum": 1.5 } }"""));

        Assert.Equal(2, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.StartsWith("training.epochs", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("training.momentum", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_reads_a_file_path_and_names_a_missing_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sqnxt-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "base": "v_1_0_G_SqNxt_23", "name": "mine" }""");
        try
        {
            Assert.Equal(2, ConfigurationCatalog.Resolve(path).Architecture.Groups);
        }
        finally
        {
            File.Delete(path);
        }

        var error = Assert.Throws<InvalidConfigurationException>(() => ConfigurationCatalog.Resolve("/no/such/config.json"));
        Assert.Contains("'/no/such/config.json' does not exist", error.Message);
    }

    [Fact]
    public void An_unknown_name_lists_the_known_configurations()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => ConfigurationCatalog.Resolve("v_3_0_SqNxt_23"));

        Assert.Contains("unknown configuration 'v_3_0_SqNxt_23'", error.Message);
        Assert.Contains("v_1_0_SqNxt_23_mod", error.Message);
    }

    [Fact]
    public void The_TF_port_configurations_carry_their_published_hyper_parameters()
    {
        var expected = new (string Name, bool Separate, double Lr, int Warmup, double WarmupStart)[]
        {
            ("v_1_0_SqNxt_23", true, 0.1, 3120, 0.025),
            ("v_1_0_SqNxt_23_mod", false, 0.1, 3120, 0.025),
            ("v_1_0_G_SqNxt_23", true, 0.4, 780, 0.1),
            ("v_1_0_SqNxt_23_v5", true, 0.4, 780, 0.1),
            ("v_2_0_SqNxt_23", true, 0.4, 780, 0.1),
            ("v_2_0_SqNxt_23_v5", true, 0.4, 780, 0.1),
        };
        foreach (var (name, separate, lr, warmup, warmupStart) in expected)
        {
            var configuration = ConfigurationCatalog.Get(name);
            Assert.Equal(separate, configuration.Architecture.SeparateRelus);
            Assert.Equal(lr, configuration.Training.BaseLearningRate);
            Assert.Equal(warmup, configuration.Training.WarmupSteps);
            Assert.Equal(warmupStart, configuration.Training.WarmupStartLearningRate);
            Assert.Equal(227, configuration.Architecture.InputSize);
            Assert.Equal(1000, configuration.Architecture.NumClasses);
            Assert.Equal(256, configuration.Training.BatchSize);
            Assert.Equal(0, configuration.Training.WeightDecay);
        }
    }
}
