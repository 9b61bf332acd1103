using F = TorchSharp.torch.nn.functional;

namespace SqueezeNext.Vision.Tests.Model;

/// <summary>
/// Checks each block against a reference written with plain functional ops from the weights, for both ReLU layouts
/// and for projection-first blocks, so a ReLU in the wrong place cannot hide behind equal parameter counts.
/// </summary>
[Trait("Level", "unit")]
public class ReluPlacementTests
{
    private static readonly SqueezeNextArchitecture Small = TestData.SmallArchitecture(64);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_block_computes_the_reference_formula(bool separateRelus)
    {
        using var network = BuildWithRandomStatistics(Small with { SeparateRelus = separateRelus });
        AssertBlocksMatchReference(network, separateRelus);
    }

    [Fact]
    public void Projection_first_blocks_add_the_projection_that_feeds_the_branch()
    {
        var architecture = TestData.SmallArchitecture(64, "1.0-SqNxt-23v5");
        using var network = BuildWithRandomStatistics(architecture);
        Assert.Equal(ShortcutKind.ProjectionFirst, network.Blocks.First().Plan.Shortcut);
        AssertBlocksMatchReference(network, separateRelus: true);
    }

    [Fact]
    public void The_two_layouts_compute_different_functions_from_the_same_weights()
    {
        using var separate = BuildWithRandomStatistics(Small);
        using var resnetStyle = new SqueezeNextNetwork(Small with { SeparateRelus = false });
        resnetStyle.load_state_dict(separate.state_dict());
        separate.eval();
        resnetStyle.eval();
        using var noGrad = no_grad();
        using var input = randn(2, 3, 64, 64, generator: new Generator(5));

        using var a = separate.forward(input);
        using var b = resnetStyle.forward(input);

        Assert.False(a.allclose(b, rtol: 1e-3, atol: 1e-4));
    }

    private static SqueezeNextNetwork BuildWithRandomStatistics(SqueezeNextArchitecture architecture)
    {
        var network = new SqueezeNextNetwork(architecture, seed: 11);
        using var noGrad = no_grad();
        var generator = new Generator(12);
        foreach (var (name, tensor) in network.state_dict())
        {
            if (name.EndsWith("bn.weight", StringComparison.Ordinal)) tensor.uniform_(0.5, 1.5, generator);
            else if (name.EndsWith("bn.bias", StringComparison.Ordinal)) tensor.normal_(0, 0.5, generator);
            else if (name.EndsWith("running_mean", StringComparison.Ordinal)) tensor.normal_(0, 0.2, generator);
            else if (name.EndsWith("running_var", StringComparison.Ordinal)) tensor.uniform_(0.5, 1.5, generator);
        }
        network.eval();
        return network;
    }

    private static void AssertBlocksMatchReference(SqueezeNextNetwork network, bool separateRelus)
    {
        var state = network.state_dict();
        using var noGrad = no_grad();
        var generator = new Generator(13);
        foreach (var block in network.Blocks)
        {
            var plan = block.Plan;
            int size = plan.Stride == 2 ? 16 : 8;
            using var scope = NewDisposeScope();
            var input = randn(new long[] { 2, plan.InChannels, size, size }, generator: generator);

            var actual = block.forward(input);

            Tensor Unit(Tensor x, ConvSpec spec, bool relu)
            {
                var y = F.conv2d(x, state[$"{spec.Name}.conv.weight"], null,
                    strides: [spec.Stride, spec.Stride], padding: [spec.PaddingHeight, spec.PaddingWidth], groups: spec.Groups);
                y = F.batch_norm(y, state[$"{spec.Name}.bn.running_mean"], state[$"{spec.Name}.bn.running_var"],
                    state[$"{spec.Name}.bn.weight"], state[$"{spec.Name}.bn.bias"], training: false, eps: 1e-5);
                return relu ? F.relu(y) : y;
            }

            Tensor expected;
            if (plan.Shortcut == ShortcutKind.ProjectionFirst)
            {
                var p = Unit(input, plan.Projection!, relu: true);
                var branch = Unit(Unit(Unit(Unit(Unit(p, plan.Sq1, true), plan.Sq2, true), plan.SepA, true), plan.SepB, true), plan.Exp, separateRelus);
                expected = F.relu(branch + p);
            }
            else
            {
                var branch = Unit(Unit(Unit(Unit(Unit(input, plan.Sq1, true), plan.Sq2, true), plan.SepA, true), plan.SepB, true), plan.Exp, separateRelus);
                var shortcut = plan.Shortcut == ShortcutKind.Identity ? input : Unit(input, plan.Projection!, separateRelus);
                expected = F.relu(branch + shortcut);
            }

            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"{plan.Name} differs from the reference");
        }
    }
}
