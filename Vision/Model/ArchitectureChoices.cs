using System.Text.Json.Serialization;

namespace SqueezeNext.Vision.Model;

/// <summary>How the first block of each stage treats its projection shortcut.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FirstBlockStyle>))]
public enum FirstBlockStyle
{
    /// <summary>The 1×1 projection runs beside the main branch and the two are added (Caffe 1.0/2.0, the TF port).</summary>
    Parallel,

    /// <summary>
    /// The input is projected first (Cin → C, stride s, +BN+ReLU) giving P; the branch runs on P at stride 1 and the
    /// output is ReLU(branch(P) + P). The Caffe v5 prototxts do this.
    /// </summary>
    ProjectionFirst,
}

/// <summary>How the stem's 3×3/2 max-pool rounds its output size (Caffe rounds up, TensorFlow and PyTorch down).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PoolRounding>))]
public enum PoolRounding
{
    Floor,
    Ceil,
}

/// <summary>How a block derives the widths of its branch (sq1 → sq2 → sepA → sepB → exp).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BranchWidths>))]
public enum BranchWidths
{
    /// <summary>Halves and quarters of the block's output width (Caffe, the TF port).</summary>
    OutputWidth,

    /// <summary>
    /// From the input width `in` and a divisor d (1 at stride 2, 4 when the block narrows, else 2): sq1 in → in/d,
    /// sq2 → in/(2d), sepA → in/d, sepB → in/d, exp → out (pytorchcv).
    /// </summary>
    InputReduction,
}

/// <summary>When a block's shortcut is a 1×1 projection instead of the identity.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ShortcutRule>))]
public enum ShortcutRule
{
    /// <summary>Whenever the width or the resolution changes (Caffe, the TF port).</summary>
    WidthOrStrideChange,

    /// <summary>At stride 2 or when the block narrows; a stride-1 widening is not allowed (pytorchcv).</summary>
    StrideOrNarrowing,
}

/// <summary>The order of a block's two separable convolutions.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SeparableOrder>))]
public enum SeparableOrder
{
    /// <summary>3×1 then 1×3 in odd blocks, 1×3 then 3×1 in even ones, counted across the network (Caffe, the TF port).</summary>
    Alternating,

    /// <summary>1×3 then 3×1 in every block (pytorchcv).</summary>
    HorizontalFirst,
}

/// <summary>How convolution and classifier weights are initialised; BN scale starts at 1 and shift at 0 either way.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WeightInit>))]
public enum WeightInit
{
    /// <summary>Glorot/Xavier uniform, what the TF port's slim layers use.</summary>
    XavierUniform,

    /// <summary>He/Kaiming normal (fan-out, ReLU gain), the torchvision habit.</summary>
    KaimingNormal,
}
