namespace SqueezeNext.Vision.Tests.Model;

/// <summary>
/// Channels-last (NHWC) against NCHW: the same logits and gradients in evaluation mode, differences that only
/// batch statistics amplify in training mode, and the layout conversion itself.
/// </summary>
[Trait("Level", "unit")]
public sealed class MemoryFormatTests
{
    private static readonly SqueezeNextArchitecture Small = TestData.SmallArchitecture(64);

    [Fact]
    public void Channels_last_gives_the_logits_and_gradients_of_the_NCHW_layout_in_evaluation_mode()
    {
        using var network = new SqueezeNextNetwork(Small, seed: 41);
        using var input = randn(new long[] { 4, 3, 64, 64 }, generator: new Generator(42));
        using var labels = tensor(new long[] { 1, 3, 5, 7 });

        var (nchwLogits, nchwGradients) = Pass(network, input, labels, channelsLast: false);
        var (nhwcLogits, nhwcGradients) = Pass(network, input, labels, channelsLast: true);

        Assert.True(nhwcLogits.allclose(nchwLogits, rtol: 1e-4, atol: 1e-5), $"logits differ by up to {(nhwcLogits - nchwLogits).abs().max().item<float>()} (largest {nchwLogits.abs().max().item<float>()})");
        foreach (var (name, gradient) in nchwGradients)
        {
            double scale = Math.Max(1e-3, gradient.abs().max().item<float>());
            double difference = (nhwcGradients[name] - gradient).abs().max().item<float>();
            Assert.True(difference <= 1e-3 * scale, $"{name}: gradients differ by {difference} (largest {scale})");
        }
    }

    [Fact]
    public void The_layout_conversion_keeps_shape_and_values_and_is_skipped_when_already_channels_last()
    {
        using var input = arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5).to(ScalarType.Float32);
        using var nhwc = SqueezeNextNetwork.ToChannelsLast(input);

        Assert.False(SqueezeNextNetwork.IsChannelsLast(input));
        Assert.True(SqueezeNextNetwork.IsChannelsLast(nhwc));
        Assert.Equal(input.shape, nhwc.shape);
        Assert.True(nhwc.equal(input).all().item<bool>());
        Assert.Same(nhwc, SqueezeNextNetwork.ToChannelsLast(nhwc));
    }

    [Fact]
    public void In_training_mode_the_layouts_differ_only_by_rounding_that_batch_statistics_amplify()
    {
        // BatchNorm over a batch of 4 at 2×2 pixels (the last stage at 64×64) divides by tiny variances, so float
        // rounding differences of the two kernels grow to about 0.2 % of the logits here; 1 % would be a real error.
        using var network = new SqueezeNextNetwork(Small, seed: 43);
        using var input = randn(new long[] { 4, 3, 64, 64 }, generator: new Generator(44));
        using var labels = tensor(new long[] { 0, 2, 4, 6 });

        var (nchwLogits, _) = Pass(network, input, labels, channelsLast: false, training: true);
        var (nhwcLogits, _) = Pass(network, input, labels, channelsLast: true, training: true);

        double largest = nchwLogits.abs().max().item<float>();
        double difference = (nhwcLogits - nchwLogits).abs().max().item<float>();
        Assert.True(difference <= 0.01 * largest, $"logits differ by {difference} (largest {largest})");
    }

    private static (Tensor Logits, Dictionary<string, Tensor> Gradients) Pass(SqueezeNextNetwork network, Tensor input, Tensor labels,
        bool channelsLast, bool training = false)
    {
        network.ChannelsLastOnCpu = channelsLast;
        network.train(training);
        foreach (var p in network.parameters()) p.grad = null;
        var logits = network.forward(input);
        using var loss = nn.functional.cross_entropy(logits, labels);
        loss.backward();
        var gradients = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        return (logits.detach(), gradients);
    }
}
