using System.Diagnostics;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>Runs a network over a split without gradients and measures loss, top-1, top-5 and per-class accuracy.</summary>
public static class Evaluator
{
    /// <param name="network">Evaluated in eval mode with its BatchNorms folded (as inference runs it); its previous mode is restored afterwards.</param>
    /// <param name="loader">An unshuffled, unaugmented loader over the split.</param>
    /// <param name="device">Where the network lives.</param>
    /// <param name="maxImages">Evaluate at most this many images (the first ones in dataset order); null for all.</param>
    /// <param name="onBatch">Called after each batch with the images done so far.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static EvaluationResult Evaluate(SqueezeNextNetwork network, BatchLoader loader, Device device,
        int? maxImages = null, Action<int>? onBatch = null, CancellationToken cancellationToken = default)
    {
        var classes = loader.Dataset.Classes;
        int numClasses = network.Architecture.NumClasses;
        var correct = new int[classes.Count];
        var total = new int[classes.Count];
        int images = 0, top1 = 0, top5 = 0, failed = 0;
        double lossSum = 0;
        int inputSize = network.Architecture.InputSize;
        int k = Math.Min(5, numClasses);

        bool wasTraining = network.training;
        network.eval();
        network.FoldBatchNorm();
        var clock = Stopwatch.StartNew();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in loader.ReadEpoch(0, 0, cancellationToken))
            {
                using var owned = batch;
                failed += batch.Failures.Count;
                if (batch.Count == 0) continue;
                int take = maxImages is { } limit ? Math.Min(batch.Count, limit - images) : batch.Count;
                if (take <= 0) break;

                using var scope = NewDisposeScope();
                var (input, labels) = BatchTensors.ToTensors(batch, inputSize, device);
                if (take < batch.Count)
                {
                    input = input.narrow(0, 0, take);
                    labels = labels.narrow(0, 0, take);
                }
                var logits = network.forward(input);
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).cpu().item<float>();
                var best = logits.topk(k, dim: 1).indexes.cpu();
                var predicted = best.data<long>().ToArray();
                for (int i = 0; i < take; i++)
                {
                    long label = batch.Labels[i];
                    bool isTop1 = predicted[i * k] == label;
                    bool isTop5 = false;
                    for (int j = 0; j < k; j++) isTop5 |= predicted[i * k + j] == label;
                    if (isTop1) top1++;
                    if (isTop5) top5++;
                    if (label < classes.Count)
                    {
                        total[label]++;
                        if (isTop1) correct[label]++;
                    }
                }
                images += take;
                onBatch?.Invoke(images);
                if (maxImages is { } max && images >= max) break;
            }
        }
        finally
        {
            // A run evaluating between training steps goes on training: the folds would be stale after its next step.
            if (wasTraining) network.UnfoldBatchNorm();
            network.train(wasTraining);
        }
        clock.Stop();
        double seconds = clock.Elapsed.TotalSeconds;
        var perClass = classes.Select((name, i) => new ClassAccuracy(i, name, correct[i], total[i])).ToArray();
        return new EvaluationResult(
            images,
            images == 0 ? double.NaN : lossSum / images,
            images == 0 ? 0 : (double)top1 / images,
            images == 0 ? 0 : (double)top5 / images,
            perClass,
            seconds > 0 ? images / seconds : 0,
            seconds,
            failed);
    }
}
