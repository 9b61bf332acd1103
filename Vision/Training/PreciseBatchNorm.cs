using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// Recomputes every BatchNorm's running mean and variance as the plain average over a number of training batches
/// with the weights as they are ("precise BN"), leaving the weights untouched.
/// </summary>
public static class PreciseBatchNorm
{
    public static void Recalibrate(SqueezeNextNetwork network, IEnumerable<Batch> batches, int maxBatches, Device device)
    {
        var norms = network.modules().OfType<BatchNorm2d>().ToList();
        var momenta = norms.Select(bn => bn.momentum).ToList();
        bool wasTraining = network.training;
        using var noGrad = no_grad();
        foreach (var bn in norms)
        {
            bn.reset_running_stats();
            // A null momentum makes BatchNorm keep the cumulative average, as PyTorch does.
            bn.momentum = null;
        }
        network.train();
        try
        {
            int used = 0;
            foreach (var batch in batches)
            {
                using var owned = batch;
                if (batch.Count < 2) continue;
                using var scope = NewDisposeScope();
                var (images, _) = BatchTensors.ToTensors(batch, network.Architecture.InputSize, device);
                network.forward(images);
                if (++used >= maxBatches) break;
            }
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++) norms[i].momentum = momenta[i];
            network.train(wasTraining);
        }
    }
}
