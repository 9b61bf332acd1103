namespace SqueezeNext.Vision.Model;

/// <summary>
/// One SqueezeNext block: sq1 (1×1, the only stride) → sq2 (1×1) → sepA → sepB (3×1 and 1×3 in alternating order) →
/// exp (1×1), added to the shortcut, then ReLU.
/// </summary>
public sealed record BlockPlan(
    string Name,
    int NetworkIndex,
    int InChannels,
    int OutChannels,
    int Stride,
    ShortcutKind Shortcut,
    ConvSpec? Projection,
    ConvSpec Sq1,
    ConvSpec Sq2,
    ConvSpec SepA,
    ConvSpec SepB,
    ConvSpec Exp)
{
    /// <summary>The convolutions in the order they run (a projection-first block starts with its projection).</summary>
    public IEnumerable<ConvSpec> Convolutions()
    {
        if (Shortcut == ShortcutKind.ProjectionFirst) yield return Projection!;
        yield return Sq1;
        yield return Sq2;
        yield return SepA;
        yield return SepB;
        yield return Exp;
        if (Shortcut == ShortcutKind.ParallelProjection) yield return Projection!;
    }

    /// <summary>True when sepA is 3×1 (odd blocks counted across the network), false when it is 1×3.</summary>
    public bool VerticalFirst => SepA.KernelHeight == 3;
}

/// <summary>
/// The layer-by-layer plan of a SqueezeNext network, derived from an architecture. The TorchSharp module is built
/// from this plan and the summary counts parameters and MACs from it, so the two cannot disagree.
/// </summary>
public sealed class NetworkPlan
{
    public const int MaxPoolKernel = 3;
    public const int MaxPoolStride = 2;

    private NetworkPlan(SqueezeNextArchitecture architecture, ConvSpec stem, IReadOnlyList<IReadOnlyList<BlockPlan>> stages, ConvSpec head)
    {
        Architecture = architecture;
        Stem = stem;
        Stages = stages;
        Head = head;
    }

    public SqueezeNextArchitecture Architecture { get; }
    public ConvSpec Stem { get; }
    public IReadOnlyList<IReadOnlyList<BlockPlan>> Stages { get; }
    public ConvSpec Head { get; }
    public int ClassifierInputs => Head.OutChannels;
    public int NumClasses => Architecture.NumClasses;

    public IEnumerable<BlockPlan> Blocks => Stages.SelectMany(stage => stage);

    /// <summary>Every convolution of the network in execution order (the classifier is not a convolution).</summary>
    public IEnumerable<ConvSpec> Convolutions() =>
        new[] { Stem }.Concat(Blocks.SelectMany(block => block.Convolutions())).Append(Head);

    /// <summary>Trainable parameters: convolution and classifier weights and biases plus BatchNorm scale and shift.</summary>
    public long TrainableParameters => Convolutions().Sum(conv => conv.Parameters) + ClassifierParameters;

    /// <summary>Convolution and classifier weights only.</summary>
    public long Weights => Convolutions().Sum(conv => conv.Weights) + ClassifierWeights;

    public long ClassifierWeights => (long)ClassifierInputs * NumClasses;

    public long ClassifierParameters => ClassifierWeights + (Architecture.ClassifierBias ? NumClasses : 0);

    public static NetworkPlan For(SqueezeNextArchitecture architecture)
    {
        var problems = architecture.Validate();
        if (problems.Count > 0)
            throw new InvalidConfigurationException(problems);

        int groups = architecture.Groups;
        bool bias = architecture.ConvBias;
        var stem = new ConvSpec("stem", 3, architecture.StemChannels, architecture.StemKernel, architecture.StemKernel,
            architecture.StemStride, architecture.StemPadding, architecture.StemPadding, 1, Relu: true, bias);

        var stages = new List<IReadOnlyList<BlockPlan>>();
        int inChannels = architecture.StemChannels;
        int networkIndex = 0;
        for (int s = 0; s < architecture.StageWidths.Length; s++)
        {
            int width = architecture.StageWidths[s];
            var blocks = new List<BlockPlan>();
            for (int b = 0; b < architecture.BlocksPerStage[s]; b++)
            {
                networkIndex++;
                int stride = b == 0 ? architecture.StageStrides[s] : 1;
                string name = $"stage{s + 1}.block{b + 1}";
                blocks.Add(PlanBlock(architecture, name, networkIndex, inChannels, width, stride, b == 0, groups));
                inChannels = width;
            }
            stages.Add(blocks);
        }

        var head = new ConvSpec("head", inChannels, architecture.HeadChannels, 1, 1, 1, 0, 0, 1, Relu: true, bias);
        var plan = new NetworkPlan(architecture, stem, stages, head);
        // Fails, naming the layer, when the input size is too small for this network.
        NetworkSummary.For(plan);
        return plan;
    }

    private static BlockPlan PlanBlock(SqueezeNextArchitecture architecture, string name, int networkIndex,
        int inChannels, int width, int stride, bool firstInStage, int groups)
    {
        bool separateRelus = architecture.SeparateRelus;
        bool bias = architecture.ConvBias;
        bool project = architecture.ShortcutRule == ShortcutRule.StrideOrNarrowing
            ? stride != 1 || inChannels > width
            : inChannels != width || stride != 1 || (networkIndex == 1 && architecture.KeepFirstBlockProjection);
        ShortcutKind shortcut;
        if (firstInStage && architecture.FirstBlockStyle == FirstBlockStyle.ProjectionFirst)
            shortcut = ShortcutKind.ProjectionFirst;
        else
            shortcut = project ? ShortcutKind.ParallelProjection : ShortcutKind.Identity;

        ConvSpec? projection = shortcut switch
        {
            // Projection-first always ends in ReLU: its output feeds the branch as an ordinary activation.
            ShortcutKind.ProjectionFirst => new ConvSpec($"{name}.projection", inChannels, width, 1, 1, stride, 0, 0, 1, Relu: true, bias),
            ShortcutKind.ParallelProjection => new ConvSpec($"{name}.shortcut", inChannels, width, 1, 1, stride, 0, 0, 1, Relu: separateRelus, bias),
            _ => null,
        };
        int branchIn = shortcut == ShortcutKind.ProjectionFirst ? width : inChannels;
        int branchStride = shortcut == ShortcutKind.ProjectionFirst ? 1 : stride;

        int wide, narrow;
        if (architecture.BranchWidths == BranchWidths.InputReduction)
        {
            int divisor = stride == 2 ? 1 : inChannels > width ? 4 : 2;
            if (branchIn % (2 * divisor) != 0)
                throw new InvalidConfigurationException(
                    $"architecture.branchWidths: block {name} cannot reduce its {branchIn} input channels by {divisor} and {2 * divisor}");
            (wide, narrow) = (branchIn / divisor, branchIn / (2 * divisor));
        }
        else
        {
            (wide, narrow) = (width / 2, width / 4);
        }

        // Alternating: odd blocks (counted across the network) 3×1 then 1×3, even blocks 1×3 then 3×1.
        bool verticalFirst = architecture.SeparableOrder == SeparableOrder.Alternating && networkIndex % 2 == 1;
        ConvSpec Vertical(string n, int cin, int cout) => new(n, cin, cout, 3, 1, 1, 1, 0, groups, Relu: true, bias);
        ConvSpec Horizontal(string n, int cin, int cout) => new(n, cin, cout, 1, 3, 1, 0, 1, groups, Relu: true, bias);

        var sq1 = new ConvSpec($"{name}.sq1", branchIn, wide, 1, 1, branchStride, 0, 0, groups, Relu: true, bias);
        var sq2 = new ConvSpec($"{name}.sq2", wide, narrow, 1, 1, 1, 0, 0, 1, Relu: true, bias);
        var sepA = verticalFirst ? Vertical($"{name}.sepA", narrow, wide) : Horizontal($"{name}.sepA", narrow, wide);
        var sepB = verticalFirst ? Horizontal($"{name}.sepB", wide, wide) : Vertical($"{name}.sepB", wide, wide);
        var exp = new ConvSpec($"{name}.exp", wide, width, 1, 1, 1, 0, 0, 1, Relu: separateRelus, bias);

        return new BlockPlan(name, networkIndex, inChannels, width, stride, shortcut, projection, sq1, sq2, sepA, sepB, exp);
    }
}
