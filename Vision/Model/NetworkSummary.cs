namespace SqueezeNext.Vision.Model;

/// <summary>One row of a model summary: a convolution, a pooling layer or the classifier.</summary>
public sealed record LayerSummary(
    string Name,
    string Type,
    string Kernel,
    int Stride,
    int Groups,
    int InChannels,
    int OutChannels,
    int OutputHeight,
    int OutputWidth,
    long Parameters,
    long Macs);

/// <summary>
/// Per-layer shapes, trainable parameters (weights, biases, BN scale and shift; running statistics are not trained) and
/// multiply-accumulates (k_h·k_w·(Cin/g)·Cout·H_out·W_out for convolutions, Cin·Cout for the classifier).
/// </summary>
public sealed record NetworkSummary(int InputSize, IReadOnlyList<LayerSummary> Layers, long Parameters, long Weights, long Macs)
{
    public static NetworkSummary For(NetworkPlan plan, int? inputSize = null)
    {
        int size = inputSize ?? plan.Architecture.InputSize;
        var rows = new List<LayerSummary>();
        int height = size, width = size;

        void AddConv(ConvSpec conv, int inHeight, int inWidth)
        {
            var (h, w) = conv.OutputSize(inHeight, inWidth);
            if (h < 1 || w < 1)
                throw new InvalidConfigurationException(
                    $"inputSize: {size}×{size} is too small for this network: '{conv.Name}' would produce {h}×{w}");
            rows.Add(new LayerSummary(conv.Name, "conv+bn" + (conv.Relu ? "+relu" : ""), $"{conv.KernelHeight}×{conv.KernelWidth}",
                conv.Stride, conv.Groups, conv.InChannels, conv.OutChannels, h, w, conv.Parameters,
                conv.Weights * h * w));
        }

        AddConv(plan.Stem, height, width);
        (height, width) = plan.Stem.OutputSize(height, width);

        bool ceil = plan.Architecture.MaxPoolRounding == PoolRounding.Ceil;
        height = PooledSize(height, ceil);
        width = PooledSize(width, ceil);
        if (height < 1 || width < 1)
            throw new InvalidConfigurationException($"inputSize: {size}×{size} is too small for this network's stem");
        rows.Add(new LayerSummary("stem.pool", "maxpool" + (ceil ? " (ceil)" : ""), "3×3", NetworkPlan.MaxPoolStride, 1,
            plan.Stem.OutChannels, plan.Stem.OutChannels, height, width, 0, 0));

        foreach (var block in plan.Blocks)
        {
            int blockHeight = height, blockWidth = width;
            if (block.Shortcut == ShortcutKind.ProjectionFirst)
            {
                AddConv(block.Projection!, height, width);
                (blockHeight, blockWidth) = block.Projection!.OutputSize(height, width);
            }
            int h = blockHeight, w = blockWidth;
            foreach (var conv in new[] { block.Sq1, block.Sq2, block.SepA, block.SepB, block.Exp })
            {
                AddConv(conv, h, w);
                (h, w) = conv.OutputSize(h, w);
            }
            if (block.Shortcut == ShortcutKind.ParallelProjection)
                AddConv(block.Projection!, height, width);
            (height, width) = (h, w);
        }

        AddConv(plan.Head, height, width);
        rows.Add(new LayerSummary("pool", "global avgpool", $"{height}×{width}", 1, 1, plan.Head.OutChannels,
            plan.Head.OutChannels, 1, 1, 0, 0));
        rows.Add(new LayerSummary("classifier", "linear", "-", 1, 1, plan.ClassifierInputs, plan.NumClasses, 1, 1,
            plan.ClassifierParameters, plan.ClassifierWeights));

        return new NetworkSummary(size, rows, rows.Sum(r => r.Parameters), plan.Weights, rows.Sum(r => r.Macs));
    }

    private static int PooledSize(int size, bool ceil)
    {
        int span = size - NetworkPlan.MaxPoolKernel;
        if (span < 0) return 0;
        int pooled = (ceil ? (span + NetworkPlan.MaxPoolStride - 1) / NetworkPlan.MaxPoolStride : span / NetworkPlan.MaxPoolStride) + 1;
        // As in PyTorch and Caffe, the last window must start inside the input.
        if (ceil && (pooled - 1) * NetworkPlan.MaxPoolStride >= size) pooled--;
        return pooled;
    }
}
