using System.Diagnostics;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>
/// The machine's practical ceiling for the model: single-precision matrix multiplication through libtorch (the
/// BLAS it was built with) at a size large enough to reach peak, in GFLOP/s (2·n³ per product).
/// </summary>
public static class MatmulBenchmark
{
    public static (double GflopsPerSecond, double MedianSeconds) Run(int size = 2048, int steps = 10, int warmupSteps = 2)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(0);
        var a = randn(new long[] { size, size }, generator: generator);
        var b = randn(new long[] { size, size }, generator: generator);
        var times = new List<double>();
        for (int i = 0; i < warmupSteps + steps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (a.mm(b))
            {
            }
            if (i >= warmupSteps) times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        return (2.0 * size * size * size / median / 1e9, median);
    }
}
