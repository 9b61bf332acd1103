namespace SqueezeNext.Vision.Tests.Model;

/// <summary>ConvBatchNorm runs BatchNorm itself (to count batches with a kept scalar, see KeptScalars); it must equal BatchNorm2d.</summary>
[Trait("Level", "unit")]
public class ConvBatchNormTests
{
    [Fact]
    public void ConvBatchNorm_normalizes_and_tracks_running_statistics_exactly_as_BatchNorm2d()
    {
        var spec = new ConvSpec("unit", InChannels: 3, OutChannels: 4, KernelHeight: 3, KernelWidth: 3, Stride: 1,
            PaddingHeight: 1, PaddingWidth: 1, Groups: 1, Relu: false);
        using var unit = new ConvBatchNorm(spec);
        using var reference = nn.BatchNorm2d(4, eps: ConvBatchNorm.BatchNormEpsilon, momentum: ConvBatchNorm.BatchNormMomentum);
        var generator = new Generator(33);
        unit.train();
        reference.train();
        using var noGrad = no_grad();
        for (int pass = 0; pass < 3; pass++)
        {
            if (pass == 2) unit.BatchNorm.momentum = reference.momentum = null;
            using var scope = NewDisposeScope();
            var input = randn(new long[] { 5, 3, 6, 6 }, generator: generator);
            var convolved = unit.Convolution.forward(input);
            var expected = reference.forward(convolved);
            var actual = unit.forward(input);
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6), $"pass {pass}: outputs differ");
            Assert.True(unit.BatchNorm.running_mean!.allclose(reference.running_mean!), $"pass {pass}: running means differ");
            Assert.True(unit.BatchNorm.running_var!.allclose(reference.running_var!), $"pass {pass}: running variances differ");
            Assert.Equal(pass + 1, unit.BatchNorm.num_batches_tracked!.item<long>());
        }

        unit.eval();
        reference.eval();
        using var evalScope = NewDisposeScope();
        var image = randn(new long[] { 2, 3, 6, 6 }, generator: generator);
        Assert.True(unit.forward(image).allclose(reference.forward(unit.Convolution.forward(image)), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(3, unit.BatchNorm.num_batches_tracked!.item<long>());
    }
}
