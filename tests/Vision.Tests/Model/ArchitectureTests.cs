namespace SqueezeNext.Vision.Tests.Model;

[Trait("Level", "unit")]
public class ArchitectureTests
{
    public static TheoryData<string> AllConfigurations => new(ConfigurationCatalog.Names);

    [Theory]
    [MemberData(nameof(AllConfigurations))]
    public void Output_is_batch_by_classes_at_227_and_at_32(string name)
    {
        var architecture = ConfigurationCatalog.Get(name).Architecture;
        using var network = new SqueezeNextNetwork(architecture, seed: 1);
        network.eval();
        using var noGrad = no_grad();

        foreach (int size in new[] { 227, 32 })
        {
            using var input = randn(2, 3, size, size);
            using var logits = network.forward(input);
            Assert.Equal(new long[] { 2, architecture.NumClasses }, logits.shape);
            Assert.True(logits.isfinite().all().item<bool>());
        }
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(96)]
    [InlineData(160)]
    public void Output_shape_holds_for_small_inputs_and_few_classes(int size)
    {
        var architecture = ConfigurationCatalog.Get("1.0-SqNxt-23v5").Architecture with { NumClasses = 10, InputSize = size };
        using var network = new SqueezeNextNetwork(architecture, seed: 2);
        network.eval();
        using var noGrad = no_grad();
        using var input = randn(3, 3, size, size);

        using var logits = network.forward(input);

        Assert.Equal(new long[] { 3, 10 }, logits.shape);
    }

    [Fact]
    public void Separable_orientation_alternates_across_the_whole_network_not_per_stage()
    {
        using var network = new SqueezeNextNetwork(ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture);
        var blocks = network.Blocks.ToList();
        Assert.Equal(21, blocks.Count);

        var state = network.state_dict();
        for (int i = 0; i < blocks.Count; i++)
        {
            var name = blocks[i].Plan.Name;
            var sepA = state[$"{name}.sepA.conv.weight"].shape;
            var sepB = state[$"{name}.sepB.conv.weight"].shape;
            bool odd = (i + 1) % 2 == 1;
            // Odd blocks (counted from 1): 3×1 then 1×3; even blocks: 1×3 then 3×1.
            Assert.Equal(odd ? new long[] { 3, 1 } : new long[] { 1, 3 }, sepA[2..]);
            Assert.Equal(odd ? new long[] { 1, 3 } : new long[] { 3, 1 }, sepB[2..]);
        }
        // Stage 2 starts at network block 7 (odd): a per-stage alternation would have restarted there too, but
        // stage 3 starts at block 13 and stage 4 at block 21, both odd; block 6 (end of stage 1) is even.
        Assert.False(blocks[5].Plan.VerticalFirst);
        Assert.True(blocks[6].Plan.VerticalFirst);
    }

    [Fact]
    public void Separable_orientation_continues_across_stage_boundaries_in_v5()
    {
        // v5 has 2 blocks in stage 1, so stage 2 begins with network block 3 (vertical first), not a fresh count.
        var plan = NetworkPlan.For(ConfigurationCatalog.Get("1.0-SqNxt-23v5").Architecture);
        var orientations = plan.Blocks.Select(b => b.VerticalFirst).ToList();

        Assert.Equal(Enumerable.Range(1, 21).Select(k => k % 2 == 1), orientations);
        Assert.Equal(new[] { true, false }, plan.Stages[0].Select(b => b.VerticalFirst));
        Assert.Equal(new[] { true, false, true, false }, plan.Stages[1].Select(b => b.VerticalFirst));
    }

    [Fact]
    public void Grouped_variant_groups_sq1_and_separables_only()
    {
        var block = NetworkPlan.For(ConfigurationCatalog.Get("1.0-G-SqNxt-23").Architecture).Blocks.First();

        Assert.Equal(2, block.Sq1.Groups);
        Assert.Equal(2, block.SepA.Groups);
        Assert.Equal(2, block.SepB.Groups);
        Assert.Equal(1, block.Sq2.Groups);
        Assert.Equal(1, block.Exp.Groups);
        Assert.Equal(1, block.Projection!.Groups);
    }

    [Fact]
    public void Caffe_2_0_keeps_the_first_block_projection_and_the_TF_port_drops_it()
    {
        var caffe = NetworkPlan.For(ConfigurationCatalog.Get("2.0-SqNxt-23").Architecture).Blocks.First();
        var tf = NetworkPlan.For(ConfigurationCatalog.Get("v_2_0_SqNxt_23").Architecture).Blocks.First();

        Assert.Equal(ShortcutKind.ParallelProjection, caffe.Shortcut);
        Assert.Equal(ShortcutKind.Identity, tf.Shortcut);
    }

    [Fact]
    public void Stem_has_no_padding_and_every_layer_has_no_bias()
    {
        using var network = new SqueezeNextNetwork(ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture);

        Assert.Equal(0, network.Plan.Stem.PaddingHeight);
        Assert.DoesNotContain(network.named_parameters(), p => p.name.EndsWith("conv.bias", StringComparison.Ordinal));
        Assert.DoesNotContain(network.named_parameters(), p => p.name == "classifier.bias");
        Assert.Equal(111, network.named_parameters().Count(p => p.name.EndsWith("conv.weight", StringComparison.Ordinal)));
        Assert.Equal(111, network.named_parameters().Count(p => p.name.EndsWith("bn.weight", StringComparison.Ordinal)));
    }

    [Fact]
    public void BatchNorm_uses_the_reference_epsilon_and_decay()
    {
        using var network = new SqueezeNextNetwork(ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture);
        var bn = network.modules().OfType<TorchSharp.Modules.BatchNorm2d>().First();

        Assert.Equal(1e-5, bn.eps);
        Assert.Equal(0.001, bn.momentum);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_other_weights()
    {
        var architecture = ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture;
        using var a = new SqueezeNextNetwork(architecture, seed: 7);
        using var b = new SqueezeNextNetwork(architecture, seed: 7);
        using var c = new SqueezeNextNetwork(architecture, seed: 8);

        var stateA = a.state_dict();
        Assert.All(b.state_dict(), pair => Assert.True(pair.Value.eq(stateA[pair.Key]).all().item<bool>()));
        Assert.False(c.state_dict()["stem.conv.weight"].eq(stateA["stem.conv.weight"]).all().item<bool>());
    }

    [Theory]
    [InlineData(WeightInit.XavierUniform)]
    [InlineData(WeightInit.KaimingNormal)]
    public void Initialisation_has_the_scale_of_its_scheme(WeightInit init)
    {
        using var network = new SqueezeNextNetwork(ConfigurationCatalog.Get("1.0-SqNxt-23").Architecture, init, seed: 3);
        // stage3.block2.sq1 is 128 → 64, 1×1: fan_in 128, fan_out 64.
        var weight = network.state_dict()["stage3.block2.sq1.conv.weight"];
        double std = weight.std().item<float>();

        double expected = init == WeightInit.XavierUniform ? Math.Sqrt(2.0 / (128 + 64)) : Math.Sqrt(2.0 / 64);
        Assert.InRange(std, expected * 0.9, expected * 1.1);
        Assert.True(network.state_dict()["stem.bn.weight"].eq(1).all().item<bool>());
        Assert.True(network.state_dict()["stem.bn.bias"].eq(0).all().item<bool>());
    }
}
