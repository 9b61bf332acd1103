namespace SqueezeNext.Vision.Tests.Model;

/// <summary>Training steps on a small network: every trainable tensor moves, the loss falls, and no tensor is left alive.</summary>
[Trait("Level", "unit")]
public sealed class TrainingStepTests
{
    private static readonly SqueezeNextArchitecture Small = TestData.SmallArchitecture(32);

    [Fact]
    public void Forward_backward_and_an_SGD_step_change_every_trainable_tensor_and_lower_the_loss_on_a_fixed_batch()
    {
        using var network = new SqueezeNextNetwork(Small, seed: 21);
        network.train();
        using var optimizer = optim.SGD(network.parameters(), learningRate: 0.05, momentum: 0.9);
        using var inputs = randn(8, 3, 32, 32, generator: new Generator(22));
        using var labels = arange(8).remainder(10);
        var before = network.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        float firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(network.forward(inputs), labels);
            loss.backward();
            optimizer.step();
            if (step == 0) firstLoss = loss.item<float>();
            lastLoss = loss.item<float>();
        }

        Assert.True(float.IsFinite(firstLoss));
        Assert.True(lastLoss < firstLoss, $"loss went from {firstLoss} to {lastLoss}");
        Assert.All(network.named_parameters(), p => Assert.False(p.parameter.eq(before[p.name]).all().item<bool>(), $"{p.name} did not change"));
        foreach (var tensor in before.Values) tensor.Dispose();
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_50_training_steps()
    {
        using var network = new SqueezeNextNetwork(Small, seed: 23);
        network.train();
        using var optimizer = optim.SGD(network.parameters(), learningRate: 0.01, momentum: 0.9);
        var generator = new Generator(24);
        var statistics = DisposeScopeManager.Statistics;
        var live = new List<long>();

        for (int step = 0; step < 50; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var inputs = randn(new long[] { 4, 3, 32, 32 }, generator: generator);
                var labels = randint(10, new long[] { 4 }, generator: generator);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(network.forward(inputs), labels);
                loss.backward();
                optimizer.step();
            }
            live.Add(statistics.ThreadTotalLiveCount);
        }

        // The first steps create the momentum buffers and gradients; after that nothing may accumulate.
        Assert.Equal(live[5], live[^1]);
        Assert.Equal(live[5], live.Skip(5).Max());
    }
}
