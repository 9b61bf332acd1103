using SqueezeNext.Vision.Training;

namespace SqueezeNext.Vision.Tests.Training;

/// <summary>
/// Native objects that TorchSharp frees from finalizers must never be freed while libtorch still reads them. Before the
/// fix, training under a collector that runs continuously failed within a few hundred steps ("Expected false to be
/// true", "Unknown scalar type": a BatchNorm batch count or an SGD coefficient read from freed memory).
/// It runs alone: its continuous collection would expose other tests, and TorchSharp's own optimisers, to the race.
/// </summary>
[Collection(nameof(CollectorPressureTests))]
[Trait("Level", "unit")]
public class CollectorPressureTests
{
    private static readonly SqueezeNextArchitecture Small = TestData.SmallArchitecture(32);

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
}

[CollectionDefinition(nameof(CollectorPressureTests), DisableParallelization = true)]
[Trait("Level", "unit")]
public sealed class CollectorPressureCollection;
