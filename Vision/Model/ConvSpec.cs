namespace SqueezeNext.Vision.Model;

/// <summary>One convolution (with a bias when <see cref="Bias"/>) followed by BatchNorm, and ReLU when <see cref="Relu"/>.</summary>
public sealed record ConvSpec(
    string Name,
    int InChannels,
    int OutChannels,
    int KernelHeight,
    int KernelWidth,
    int Stride,
    int PaddingHeight,
    int PaddingWidth,
    int Groups,
    bool Relu,
    bool Bias = false)
{
    /// <summary>Convolution weights: k_h·k_w·(Cin/g)·Cout.</summary>
    public long Weights => (long)KernelHeight * KernelWidth * (InChannels / Groups) * OutChannels;

    /// <summary>Trainable parameters: the weights, the bias if any, and BatchNorm's scale and shift.</summary>
    public long Parameters => Weights + (Bias ? OutChannels : 0) + 2L * OutChannels;

    public (int Height, int Width) OutputSize(int height, int width) =>
        ((height + 2 * PaddingHeight - KernelHeight) / Stride + 1, (width + 2 * PaddingWidth - KernelWidth) / Stride + 1);
}

/// <summary>What a block adds to its main branch.</summary>
public enum ShortcutKind
{
    /// <summary>The block's input, unchanged (widths match, stride 1).</summary>
    Identity,

    /// <summary>A 1×1 projection of the block's input, computed beside the branch.</summary>
    ParallelProjection,

    /// <summary>The input is projected first and both the branch and the add use the projection.</summary>
    ProjectionFirst,
}
