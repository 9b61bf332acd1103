using System.Diagnostics;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>Runs a model over a split and measures loss, top-1, top-5 and per-class accuracy from its logits.</summary>
public static class Evaluator
{
    /// <summary>Evaluates a TorchSharp network, without gradients.</summary>
    /// <param name="network">Evaluated in eval mode with its BatchNorms folded (as inference runs it); its previous mode is restored afterwards.</param>
    /// <param name="loader">An unshuffled, unaugmented loader over the split.</param>
    /// <param name="device">Where the network lives.</param>
    /// <param name="maxImages">Evaluate at most this many images (the first ones in dataset order); null for all.</param>
    /// <param name="onBatch">Called after each batch with the images done so far.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static EvaluationReport Evaluate(SqueezeNextNetwork network, BatchLoader loader, Device device,
        int? maxImages = null, Action<int>? onBatch = null, CancellationToken cancellationToken = default)
    {
        int inputSize = network.Architecture.InputSize;
        bool wasTraining = network.training;
        network.eval();
        network.FoldBatchNorm();
        try
        {
            using var noGrad = no_grad();
            return Evaluate(loader, network.Architecture.NumClasses, (batch, take) =>
            {
                using var scope = NewDisposeScope();
                var (input, _) = BatchTensors.ToTensors(batch, inputSize, device);
                if (take < batch.Count) input = input.narrow(0, 0, take);
                return network.forward(input).cpu().data<float>().ToArray();
            }, maxImages, onBatch, cancellationToken);
        }
        finally
        {
            // A run evaluating between training steps goes on training: the folds would be stale after its next step.
            if (wasTraining) network.UnfoldBatchNorm();
            network.train(wasTraining);
        }
    }

    /// <summary>Evaluates through a forward pass of either engine (<see cref="IForwardPass"/>).</summary>
    public static EvaluationReport Evaluate(IForwardPass forwardPass, int numClasses, BatchLoader loader,
        int? maxImages = null, Action<int>? onBatch = null, CancellationToken cancellationToken = default) =>
        Evaluate(loader, numClasses, (batch, take) => forwardPass.Logits(batch.ImageList(take)), maxImages, onBatch, cancellationToken);

    /// <param name="logitsOf">The logits of the first <c>take</c> images of a batch, [take × classes] row by row.</param>
    private static EvaluationReport Evaluate(BatchLoader loader, int numClasses, Func<Batch, int, float[]> logitsOf,
        int? maxImages, Action<int>? onBatch, CancellationToken cancellationToken)
    {
        var classes = loader.Dataset.Classes;
        var correct = new int[classes.Count];
        var total = new int[classes.Count];
        int images = 0, top1 = 0, top5 = 0, failed = 0;
        double lossSum = 0;
        var clock = Stopwatch.StartNew();
        foreach (var batch in loader.ReadEpoch(0, 0, cancellationToken))
        {
            using var owned = batch;
            failed += batch.Failures.Count;
            if (batch.Count == 0) continue;
            int take = maxImages is { } limit ? Math.Min(batch.Count, limit - images) : batch.Count;
            if (take <= 0) break;

            var logits = logitsOf(batch, take);
            for (int i = 0; i < take; i++)
            {
                long label = batch.Labels[i];
                var (loss, rank) = Score(logits.AsSpan(i * numClasses, numClasses), (int)label);
                lossSum += loss;
                if (rank == 0) top1++;
                if (rank < 5) top5++;
                if (label < classes.Count)
                {
                    total[label]++;
                    if (rank == 0) correct[label]++;
                }
            }
            images += take;
            onBatch?.Invoke(images);
            if (maxImages is { } max && images >= max) break;
        }
        clock.Stop();
        double seconds = clock.Elapsed.TotalSeconds;
        var perClass = classes.Select((name, i) => new ClassMetrics(i, name, correct[i], total[i])).ToArray();
        return new EvaluationReport(
            images,
            images == 0 ? double.NaN : lossSum / images,
            images == 0 ? 0 : (double)top1 / images,
            images == 0 ? 0 : (double)top5 / images,
            perClass,
            seconds > 0 ? images / seconds : 0,
            seconds,
            failed);
    }

    /// <summary>
    /// Cross-entropy of one image's logits against its label, and the label's rank (0: top-1): the classes with a higher
    /// logit, and those with the same logit and a lower index, as topk orders ties.
    /// </summary>
    private static (double Loss, int Rank) Score(ReadOnlySpan<float> logits, int label)
    {
        float largest = float.NegativeInfinity;
        foreach (var logit in logits) largest = Math.Max(largest, logit);
        double sum = 0;
        int rank = 0;
        float own = logits[label];
        for (int c = 0; c < logits.Length; c++)
        {
            sum += Math.Exp(logits[c] - largest);
            if (logits[c] > own || (logits[c] == own && c < label)) rank++;
        }
        return (Math.Log(sum) + largest - own, rank);
    }
}
