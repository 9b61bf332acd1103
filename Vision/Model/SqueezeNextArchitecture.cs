using System.Text.Json.Serialization;

namespace SqueezeNext.Vision.Model;

/// <summary>
/// Everything that decides the shape of a SqueezeNext network. Two architectures with equal fields build networks
/// that compute the same function from the same weights; <see cref="Differences"/> names the fields that differ.
/// </summary>
public sealed record SqueezeNextArchitecture
{
    /// <summary>Output width of each stage (4 stages in every published variant). Each must be divisible by 4.</summary>
    public int[] StageWidths { get; init; } = [32, 64, 128, 256];

    /// <summary>Number of blocks in each stage; same length as <see cref="StageWidths"/>.</summary>
    public int[] BlocksPerStage { get; init; } = [6, 6, 8, 1];

    /// <summary>Stride of the first block of each stage; same length as <see cref="StageWidths"/>.</summary>
    public int[] StageStrides { get; init; } = [1, 2, 2, 2];

    /// <summary>Square kernel of the stem convolution (7 for the 23/44 nets, 5 for v5).</summary>
    public int StemKernel { get; init; } = 7;

    /// <summary>Stride of the stem convolution.</summary>
    public int StemStride { get; init; } = 2;

    /// <summary>Zero padding of the stem convolution (0 in the Caffe and TF references).</summary>
    public int StemPadding { get; init; }

    /// <summary>Output channels of the stem convolution.</summary>
    public int StemChannels { get; init; } = 64;

    /// <summary>Rounding of the stem max-pool's output size.</summary>
    public PoolRounding MaxPoolRounding { get; init; } = PoolRounding.Floor;

    /// <summary>Output channels of the 1×1 head convolution before global average pooling.</summary>
    public int HeadChannels { get; init; } = 128;

    /// <summary>Group count of sq1, sepA and sepB (2 for the G variant); sq2, exp and shortcuts stay ungrouped.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>
    /// True: exp and a projection shortcut end with their own ReLU before the add (Caffe, TF <c>v_1_0_SqNxt_23</c>).
    /// False: ReLU only after the add (TF <c>v_1_0_SqNxt_23_mod</c>). Parameter sets are identical either way.
    /// </summary>
    public bool SeparateRelus { get; init; } = true;

    /// <summary>How the first block of each stage uses its projection.</summary>
    public FirstBlockStyle FirstBlockStyle { get; init; } = FirstBlockStyle.Parallel;

    /// <summary>
    /// Keep a 1×1 projection on the network's first block even when its input and output widths match (the Caffe
    /// 2.0 nets do; the TF port uses the identity).
    /// </summary>
    public bool KeepFirstBlockProjection { get; init; }

    /// <summary>How a block derives its branch widths.</summary>
    public BranchWidths BranchWidths { get; init; } = BranchWidths.OutputWidth;

    /// <summary>When a block's shortcut is a projection.</summary>
    public ShortcutRule ShortcutRule { get; init; } = ShortcutRule.WidthOrStrideChange;

    /// <summary>The order of each block's 3×1 and 1×3 convolutions.</summary>
    public SeparableOrder SeparableOrder { get; init; } = SeparableOrder.Alternating;

    /// <summary>Every convolution has a bias before its BatchNorm (pytorchcv); the references have none.</summary>
    public bool ConvBias { get; init; }

    /// <summary>The classifier has a bias (pytorchcv); the references have none.</summary>
    public bool ClassifierBias { get; init; }

    /// <summary>Number of output classes of the classifier.</summary>
    public int NumClasses { get; init; } = 1000;

    /// <summary>Side of the square input image the network was designed and trained for.</summary>
    public int InputSize { get; init; } = 227;

    /// <summary>Names of the fields whose values differ between this architecture and <paramref name="other"/>.</summary>
    public IReadOnlyList<string> Differences(SqueezeNextArchitecture other)
    {
        var fields = new List<string>();
        void Compare<T>(string name, T mine, T theirs)
        {
            if (!EqualityComparer<T>.Default.Equals(mine, theirs)) fields.Add(name);
        }
        void CompareList(string name, int[] mine, int[] theirs)
        {
            if (!mine.SequenceEqual(theirs)) fields.Add(name);
        }

        CompareList("stageWidths", StageWidths, other.StageWidths);
        CompareList("blocksPerStage", BlocksPerStage, other.BlocksPerStage);
        CompareList("stageStrides", StageStrides, other.StageStrides);
        Compare("stemKernel", StemKernel, other.StemKernel);
        Compare("stemStride", StemStride, other.StemStride);
        Compare("stemPadding", StemPadding, other.StemPadding);
        Compare("stemChannels", StemChannels, other.StemChannels);
        Compare("maxPoolRounding", MaxPoolRounding, other.MaxPoolRounding);
        Compare("headChannels", HeadChannels, other.HeadChannels);
        Compare("groups", Groups, other.Groups);
        Compare("separateRelus", SeparateRelus, other.SeparateRelus);
        Compare("firstBlockStyle", FirstBlockStyle, other.FirstBlockStyle);
        Compare("keepFirstBlockProjection", KeepFirstBlockProjection, other.KeepFirstBlockProjection);
        Compare("branchWidths", BranchWidths, other.BranchWidths);
        Compare("shortcutRule", ShortcutRule, other.ShortcutRule);
        Compare("separableOrder", SeparableOrder, other.SeparableOrder);
        Compare("convBias", ConvBias, other.ConvBias);
        Compare("classifierBias", ClassifierBias, other.ClassifierBias);
        Compare("numClasses", NumClasses, other.NumClasses);
        Compare("inputSize", InputSize, other.InputSize);
        return fields;
    }

    /// <summary>True when both architectures build the same network.</summary>
    public bool SameAs(SqueezeNextArchitecture other) => Differences(other).Count == 0;

    /// <summary>Problems that make this architecture unbuildable, each prefixed with the JSON path of its field.</summary>
    public IReadOnlyList<string> Validate(string prefix = "architecture")
    {
        var problems = new List<string>();
        void Require(bool condition, string field, string message)
        {
            if (!condition) problems.Add($"{prefix}.{field}: {message}");
        }

        int stages = StageWidths?.Length ?? 0;
        Require(stages > 0, "stageWidths", "needs at least one stage width");
        if (StageWidths is not null)
        {
            for (int i = 0; i < StageWidths.Length; i++)
            {
                Require(StageWidths[i] >= 4 && StageWidths[i] % 4 == 0, $"stageWidths[{i}]",
                    $"{StageWidths[i]} is not a positive multiple of 4 (a block narrows to width/4)");
                Require(Groups < 1 || StageWidths[i] % (4 * Groups) == 0, $"stageWidths[{i}]",
                    $"{StageWidths[i]} is not divisible by 4 × groups ({4 * Groups}), so the grouped convolutions cannot split it");
            }
        }
        Require(BlocksPerStage is not null && BlocksPerStage.Length == stages, "blocksPerStage",
            $"needs one entry per stage ({stages}), has {BlocksPerStage?.Length ?? 0}");
        if (BlocksPerStage is not null)
        {
            for (int i = 0; i < BlocksPerStage.Length; i++)
                Require(BlocksPerStage[i] is >= 1 and <= 64, $"blocksPerStage[{i}]", $"{BlocksPerStage[i]} is outside 1..64");
        }
        Require(StageStrides is not null && StageStrides.Length == stages, "stageStrides",
            $"needs one entry per stage ({stages}), has {StageStrides?.Length ?? 0}");
        if (StageStrides is not null)
        {
            for (int i = 0; i < StageStrides.Length; i++)
                Require(StageStrides[i] is 1 or 2, $"stageStrides[{i}]", $"{StageStrides[i]} is not 1 or 2");
        }
        Require(StemKernel is >= 1 and <= 11, "stemKernel", $"{StemKernel} is outside 1..11");
        Require(StemStride is 1 or 2, "stemStride", $"{StemStride} is not 1 or 2");
        Require(StemPadding >= 0 && StemPadding < StemKernel, "stemPadding", $"{StemPadding} must be at least 0 and less than the stem kernel");
        Require(StemChannels is >= 1 and <= 4096, "stemChannels", $"{StemChannels} is outside 1..4096");
        Require(Enum.IsDefined(MaxPoolRounding), "maxPoolRounding", $"'{MaxPoolRounding}' is not Floor or Ceil");
        Require(HeadChannels is >= 1 and <= 8192, "headChannels", $"{HeadChannels} is outside 1..8192");
        Require(Groups is 1 or 2 or 4, "groups", $"{Groups} is not 1, 2 or 4");
        Require(StemChannels % Math.Max(Groups, 1) == 0, "groups", $"the stem width {StemChannels} is not divisible by {Groups}");
        Require(Enum.IsDefined(FirstBlockStyle), "firstBlockStyle", $"'{FirstBlockStyle}' is not Parallel or ProjectionFirst");
        Require(Enum.IsDefined(BranchWidths), "branchWidths", $"'{BranchWidths}' is not OutputWidth or InputReduction");
        Require(Enum.IsDefined(ShortcutRule), "shortcutRule", $"'{ShortcutRule}' is not WidthOrStrideChange or StrideOrNarrowing");
        Require(Enum.IsDefined(SeparableOrder), "separableOrder", $"'{SeparableOrder}' is not Alternating or HorizontalFirst");
        Require(BranchWidths == BranchWidths.OutputWidth || Groups == 1, "branchWidths",
            "InputReduction is defined for ungrouped networks only (groups 1)");
        Require(BranchWidths == BranchWidths.OutputWidth || FirstBlockStyle == FirstBlockStyle.Parallel, "branchWidths",
            "InputReduction is defined for the Parallel first-block style only");
        if (ShortcutRule == ShortcutRule.StrideOrNarrowing && StageWidths is not null && StageStrides is not null && StageStrides.Length == stages)
        {
            int previous = StemChannels;
            for (int i = 0; i < stages; i++)
            {
                Require(StageStrides[i] == 2 || StageWidths[i] <= previous, $"stageWidths[{i}]",
                    $"{StageWidths[i]} widens stage {i + 1} at stride 1, which shortcutRule StrideOrNarrowing cannot project");
                previous = StageWidths[i];
            }
        }
        Require(NumClasses is >= 1 and <= 100_000, "numClasses", $"{NumClasses} is outside 1..100000");
        Require(InputSize is >= 16 and <= 1024, "inputSize", $"{InputSize} is outside 16..1024");
        return problems;
    }
}
