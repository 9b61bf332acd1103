using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Tests.Training;

/// <summary>
/// Native objects that TorchSharp frees from finalizers must never be freed while libtorch still reads them. Before the
/// fix, training under a collector that runs continuously failed within a few hundred steps ("Expected false to be
/// true", "Unknown scalar type": a BatchNorm batch count or an SGD coefficient read from freed memory).
/// </summary>
public class CollectorPressureTests
{
    private static readonly SqueezeNextArchitecture Small =
        ConfigurationCatalog.Get("v_1_0_SqNxt_23").Architecture with { NumClasses = 10, InputSize = 32 };

    [Fact]
    public void Training_and_inference_survive_a_collector_that_finalizes_continuously()
    {
        using var network = new SqueezeNextNetwork(Small, seed: 31);
        using var optimizer = new SgdMomentum(network.named_parameters(), momentum: 0.9, weightDecay: 1e-4);
        var generator = new Generator(32);
        long collections = 0;
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true, Name = "collector pressure" };
        collector.Start();
        try
        {
            for (int step = 1; step <= 400; step++)
            {
                using var scope = NewDisposeScope();
                var inputs = randn(new long[] { 8, 3, 32, 32 }, generator: generator);
                var labels = randint(10, new long[] { 8 }, generator: generator);
                network.train();
                optimizer.ZeroGrad();
                var loss = nn.functional.cross_entropy(network.forward(inputs), labels);
                loss.backward();
                optimizer.Step(0.01);
                Assert.True(float.IsFinite(loss.item<float>()), $"loss {loss.item<float>()} at step {step}");
                if (step % 50 != 0) continue;
                network.eval();
                using var noGrad = no_grad();
                var top = network.forward(inputs).topk(5, dim: 1).indexes;
                Assert.Equal(new long[] { 8, 5 }, top.shape);
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
        Assert.True(Interlocked.Read(ref collections) > 400, $"only {collections} collections ran alongside 400 steps");
    }

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
