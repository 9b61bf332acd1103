using TorchSharp.Modules;

namespace SqueezeNext.Vision.Tests.Model;

/// <summary>Inference folds each BatchNorm into the convolution before it; the logits must stay those of the two layers.</summary>
[Trait("Level", "unit")]
public class BatchNormFoldingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Folded_inference_gives_the_logits_of_convolution_then_BatchNorm(bool convolutionBias)
    {
        using var network = new SqueezeNextNetwork(TestData.SmallArchitecture(64) with { ConvBias = convolutionBias }, seed: 11);
        RandomizeStatistics(network, seed: 12);
        using var input = randn(new long[] { 3, 3, 64, 64 }, generator: new Generator(13));
        network.eval();

        using var noGrad = no_grad();
        using var separate = network.forward(input);
        network.FoldBatchNorm();
        Assert.All(network.modules().OfType<ConvBatchNorm>(), unit => Assert.True(unit.IsFolded));
        using var folded = network.forward(input);

        double largest = separate.abs().max().item<float>();
        double difference = (folded - separate).abs().max().item<float>();
        Assert.True(difference <= 1e-4 * Math.Max(1, largest), $"folded logits differ by {difference} (largest {largest})");
    }

    [Fact]
    public void Training_drops_the_fold_so_that_inference_afterwards_sees_the_trained_weights()
    {
        using var network = new SqueezeNextNetwork(TestData.SmallArchitecture(64), seed: 21);
        RandomizeStatistics(network, seed: 22);
        using var input = randn(new long[] { 2, 3, 64, 64 }, generator: new Generator(23));
        network.eval();
        network.FoldBatchNorm();

        network.train();
        using (var step = network.forward(input)) { }  // a training-mode pass also moves BatchNorm's running statistics
        Assert.All(network.modules().OfType<ConvBatchNorm>(), unit => Assert.False(unit.IsFolded));
        using (no_grad())
        {
            foreach (var weight in network.parameters()) weight.mul_(0.9);
        }

        network.eval();
        using var noGrad = no_grad();
        using var unfolded = network.forward(input);
        network.FoldBatchNorm();
        using var refolded = network.forward(input);
        double difference = (refolded - unfolded).abs().max().item<float>();
        Assert.True(difference <= 1e-4 * Math.Max(1, unfolded.abs().max().item<float>()), $"refolded logits differ by {difference}");
    }

    /// <summary>Statistics and scales away from their initial 0 and 1, so that a wrong fold shows.</summary>
    private static void RandomizeStatistics(SqueezeNextNetwork network, long seed)
    {
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed);
        foreach (var bn in network.modules().OfType<BatchNorm2d>())
        {
            bn.running_mean!.normal_(0, 0.5, generator);
            bn.running_var!.uniform_(0.5, 2.0, generator);
            bn.weight!.uniform_(0.5, 1.5, generator);
            bn.bias!.normal_(0, 0.2, generator);
        }
        foreach (var conv in network.modules().OfType<Conv2d>()) conv.bias?.normal_(0, 0.1, generator);
    }
}
