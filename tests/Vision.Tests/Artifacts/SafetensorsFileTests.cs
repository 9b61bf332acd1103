using SqueezeNext.Vision.Artifacts;
using TorchSharp;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Tests.Artifacts;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Writing_leaves_no_tensor_behind_and_reads_back_the_same_values()
    {
        using var weight = randn(4, 3, 3, 3).permute(0, 2, 3, 1);
        using var counts = arange(5L);
        var path = Path.Combine(temp.Path, "weights.safetensors");

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        SafetensorsFile.Write(path, [("weight", weight), ("counts", counts)]);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
        var (tensors, _) = SafetensorsFile.Read(path);
        try
        {
            Assert.True(tensors.Single(t => t.Name == "weight").Tensor.allclose(weight, 0, 0));
            Assert.True(tensors.Single(t => t.Name == "counts").Tensor.allclose(counts, 0, 0));
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }
}
