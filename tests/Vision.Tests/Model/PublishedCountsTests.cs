namespace SqueezeNext.Vision.Tests.Model;

/// <summary>Trainable parameters and MACs at each configuration's input size against SQUEEZENEXT.md §3 and §9.</summary>
[Trait("Level", "unit")]
public class PublishedCountsTests
{
    public static TheoryData<string, long, double> Expected => new()
    {
        { "v_1_0_SqNxt_23", 717_280, 277.999808 },
        { "v_1_0_SqNxt_23_mod", 717_280, 277.999808 },
        { "v_1_0_G_SqNxt_23", 543_072, 224.19 },
        { "v_1_0_SqNxt_23_v5", 909_024, 223.32 },
        { "v_2_0_SqNxt_23", 2_357_504, 729.68 },
        { "v_2_0_SqNxt_23_v5", 3_132_672, 678.07 },
        { "1.0-SqNxt-23", 717_280, 277.999808 },
        { "1.0-G-SqNxt-23", 543_072, 224.19 },
        { "1.0-SqNxt-23v5", 930_016, 224.92 },
        { "2.0-SqNxt-23", 2_361_728, 742.07 },
        { "2.0-SqNxt-23v5", 3_222_912, 702.59 },
        { "2.0-SqNxt-44", 4_428_096, 1_342.86 },
        { "1.5-SqNxt-23", 1_406_384, 472.27 },
        { "1.5-SqNxt-23v5", 1_841_456, 418.87 },
        // pytorchcv's layout at its 224 input: parameters as pytorchcv publishes them (SQUEEZENEXT.md §9), MACs as
        // this summary counts them (biases add no multiply-accumulates).
        { "sqnxt23_w1", 724_056, 275.92064 },
        { "sqnxt23_w3d2", 1_511_824, 535.34784 },
        { "sqnxt23_w2", 2_583_752, 875.75296 },
        { "sqnxt23v5_w1", 921_816, 276.943616 },
        { "sqnxt23v5_w3d2", 1_953_616, 537.649536 },
        { "sqnxt23v5_w2", 3_366_344, 879.844864 },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Summary_reports_the_published_parameters_and_macs(string name, long parameters, double megaMacs)
    {
        var summary = NetworkSummary.For(NetworkPlan.For(ConfigurationCatalog.Get(name).Architecture));

        Assert.Equal(parameters, summary.Parameters);
        Assert.InRange(summary.Macs / 1e6, megaMacs - 0.01, megaMacs + 0.01);
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public void The_built_network_has_as_many_trainable_parameters_as_the_summary_says(string name, long parameters, double _)
    {
        using var network = new SqueezeNextNetwork(ConfigurationCatalog.Get(name).Architecture);

        long counted = network.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

        Assert.Equal(parameters, counted);
    }

    [Fact]
    public void One_point_zero_SqNxt_23_matches_the_reference_to_the_last_mac()
    {
        var summary = NetworkSummary.For(NetworkPlan.For(ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture));

        Assert.Equal(277_999_808, summary.Macs);
        Assert.Equal(705_728, summary.Weights);
        Assert.Equal(111, summary.Layers.Count(l => l.Type.StartsWith("conv", StringComparison.Ordinal)));
    }

    [Fact]
    public void Per_stage_weights_and_macs_of_1_0_SqNxt_23_match_the_reference_breakdown()
    {
        var summary = NetworkSummary.For(NetworkPlan.For(ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture));
        var convs = summary.Layers.Where(l => l.Type.StartsWith("conv", StringComparison.Ordinal)).ToList();
        long Weights(string prefix) => convs.Where(l => l.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(l => l.Parameters - 2L * l.OutChannels);
        double Macs(string prefix) => convs.Where(l => l.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(l => l.Macs) / 1e6;

        Assert.Equal(9_408, Weights("stem"));
        Assert.Equal(16_384, Weights("stage1."));
        Assert.Equal(56_320, Weights("stage2."));
        Assert.Equal(299_008, Weights("stage3."));
        Assert.Equal(163_840, Weights("stage4."));
        Assert.Equal(32_768, Weights("head"));
        Assert.Equal(115.92, Macs("stem"), 2);
        Assert.Equal(49.56, Macs("stage1."), 2);
        Assert.Equal(44.15, Macs("stage2."), 2);
        Assert.Equal(58.61, Macs("stage3."), 2);
        Assert.Equal(8.03, Macs("stage4."), 2);
        Assert.Equal(1.61, Macs("head"), 2);
    }

    [Theory]
    [InlineData("v_1_0_SqNxt_23", 55, 28, 14, 7)]
    [InlineData("1.0-SqNxt-23v5", 56, 28, 14, 7)]
    [InlineData("v_1_0_SqNxt_23_v5", 55, 28, 14, 7)]
    public void Spatial_sizes_follow_the_reference_rounding(string name, int pooled, int stage2, int stage3, int stage4)
    {
        var layers = NetworkSummary.For(NetworkPlan.For(ConfigurationCatalog.Get(name).Architecture)).Layers;

        Assert.Equal(pooled, layers.Single(l => l.Name == "stem.pool").OutputHeight);
        Assert.Equal(stage2, layers.Last(l => l.Name.StartsWith("stage2.", StringComparison.Ordinal)).OutputHeight);
        Assert.Equal(stage3, layers.Last(l => l.Name.StartsWith("stage3.", StringComparison.Ordinal)).OutputHeight);
        Assert.Equal(stage4, layers.Last(l => l.Name.StartsWith("stage4.", StringComparison.Ordinal)).OutputHeight);
    }
}
