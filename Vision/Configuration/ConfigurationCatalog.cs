namespace SqueezeNext.Vision.Configuration;

/// <summary>
/// The published SqueezeNext configurations: the TF port's six (what its users pick with <c>--configuration</c>), the
/// authors' Caffe layouts, 2.0-SqNxt-44 and the 1.5-wide nets. Parameter and MAC counts are in SQUEEZENEXT.md §3.
/// </summary>
public static class ConfigurationCatalog
{
    /// <summary>The configuration <c>sqnxt train</c> uses when none is named (the TF port's training default).</summary>
    public const string DefaultName = "v_1_0_SqNxt_23";

    private const string TfSource = "TF port (Timen/squeezenext-tensorflow), configs/{0}.py";
    private const string CaffeSource = "authors' Caffe release (amirgholami/SqueezeNext), {0}";
    private const string PytorchcvSource = "pytorchcv (osmr/imgclsmob), model {0}; pretrained ImageNet weights published as PyTorch state dicts";

    private static readonly SqueezeNextArchitecture Width1 = new();
    private static readonly SqueezeNextArchitecture Width2 = Width1 with { StageWidths = [64, 128, 256, 512] };
    private static readonly SqueezeNextArchitecture Width1_5 = Width1 with { StageWidths = [48, 96, 192, 384] };
    private static readonly int[] V23Blocks = [6, 6, 8, 1];
    private static readonly int[] V5Blocks = [2, 4, 14, 1];

    // The v5 nets: fewer blocks early, more in stage 3, and a 5×5 stem.
    private static SqueezeNextArchitecture V5(SqueezeNextArchitecture width) => width with { BlocksPerStage = V5Blocks, StemKernel = 5 };

    // The Caffe v5 prototxts also enter each stage projection first and round the max-pool up.
    private static SqueezeNextArchitecture CaffeV5(SqueezeNextArchitecture width) =>
        V5(width) with { FirstBlockStyle = FirstBlockStyle.ProjectionFirst, MaxPoolRounding = PoolRounding.Ceil };

    // The TF port trains at batch 256; its first two configurations rescaled Caffe's lr and warmup for that.
    private static readonly TrainingRecipe TfBatch256Recipe = new()
    {
        BatchSize = 256, Epochs = 120, BaseLearningRate = 0.1, EndLearningRate = 1e-4, PolyPower = 2,
        WarmupSteps = 3120, WarmupStartLearningRate = 0.025, Momentum = 0.9, WeightDecay = 0,
        HorizontalFlip = true, Preprocessing = PreprocessingKind.TfSeed, Init = WeightInit.XavierUniform,
    };

    // The remaining TF configurations keep Caffe's batch-1024 values while training at batch 256.
    private static readonly TrainingRecipe TfCaffeValuesRecipe = TfBatch256Recipe with
    {
        BaseLearningRate = 0.4, WarmupSteps = 780, WarmupStartLearningRate = 0.1,
    };

    // solver.prototxt: batch 1024, ~120 epochs, poly power 2 down to 0, warmup 0.1 → 0.4 over 780 iterations,
    // weight decay 1e-4 on every learnable tensor, no mirroring.
    private static readonly TrainingRecipe CaffeRecipe = TfBatch256Recipe with
    {
        BatchSize = 1024, BaseLearningRate = 0.4, EndLearningRate = 0, WarmupSteps = 780, WarmupStartLearningRate = 0.1,
        WeightDecay = 1e-4, HorizontalFlip = false,
    };

    // pytorchcv's layout (SQUEEZENEXT.md §9), in which the published pretrained weights are stored.
    private static readonly SqueezeNextArchitecture PytorchcvLayout = Width1 with
    {
        StemPadding = 1, MaxPoolRounding = PoolRounding.Ceil, InputSize = 224, ConvBias = true, ClassifierBias = true,
        BranchWidths = BranchWidths.InputReduction, ShortcutRule = ShortcutRule.StrideOrNarrowing,
        SeparableOrder = SeparableOrder.HorizontalFirst,
    };

    // For fine-tuning the imported weights: pytorchcv does not publish its recipe, so this is Caffe's schedule with
    // the torchvision pre-processing the weights expect.
    private static readonly TrainingRecipe PytorchcvRecipe = CaffeRecipe with
    {
        Preprocessing = PreprocessingKind.Torchvision, Init = WeightInit.KaimingNormal, HorizontalFlip = true,
    };

    private static readonly SqueezeNextConfiguration[] Configurations =
    [
        Tf("v_1_0_SqNxt_23", "1.0-SqNxt-23 with separate ReLUs; the TF port's training default",
            Width1, TfBatch256Recipe),
        Tf("v_1_0_SqNxt_23_mod", "1.0-SqNxt-23, ReLU only after the residual add (ResNet style)",
            Width1 with { SeparateRelus = false }, TfBatch256Recipe),
        Tf("v_1_0_G_SqNxt_23", "1.0-G-SqNxt-23: 2 groups on sq1 and the separable convolutions",
            Width1 with { Groups = 2 }, TfCaffeValuesRecipe),
        Tf("v_1_0_SqNxt_23_v5", "1.0-SqNxt-23v5, TF layout: 5×5 stem, blocks 2-4-14-1, parallel first blocks",
            V5(Width1), TfCaffeValuesRecipe),
        Tf("v_2_0_SqNxt_23", "2.0-SqNxt-23, TF layout: doubled stage widths, identity on the first block",
            Width2, TfCaffeValuesRecipe),
        Tf("v_2_0_SqNxt_23_v5", "2.0-SqNxt-23v5, TF layout",
            V5(Width2), TfCaffeValuesRecipe),

        Caffe("1.0-SqNxt-23", "1.0-SqNxt-23 as the paper trained it", "1.0-SqNxt-23/train_val.prototxt",
            Width1),
        Caffe("1.0-G-SqNxt-23", "1.0-G-SqNxt-23: 2 groups on sq1 and the separable convolutions", "1.0-G-SqNxt-23/train_val.prototxt",
            Width1 with { Groups = 2 }),
        Caffe("1.0-SqNxt-23v5", "1.0-SqNxt-23v5, Caffe layout: projection-first stage entries, ceil max-pool",
            "1.0-SqNxt-23v5/train_val.prototxt",
            CaffeV5(Width1)),
        Caffe("2.0-SqNxt-23", "2.0-SqNxt-23, Caffe layout: the first block keeps its 64→64 projection",
            "2.0-SqNxt-23/train_val.prototxt",
            Width2 with { KeepFirstBlockProjection = true }),
        Caffe("2.0-SqNxt-23v5", "2.0-SqNxt-23v5, Caffe layout: projection-first stage entries, ceil max-pool",
            "2.0-SqNxt-23v5/train_val.prototxt",
            CaffeV5(Width2)),
        Caffe("2.0-SqNxt-44", "2.0-SqNxt-44: the deeper net that matches VGG-19 with 4.4 M parameters",
            "2.0-SqNxt-44/train_val.prototxt",
            Width2 with { BlocksPerStage = [12, 12, 16, 2], KeepFirstBlockProjection = true }),
        Published("1.5-SqNxt-23", "1.5-SqNxt-23: stage widths 48-96-192-384, stem 64, head 128, no biases",
            "width multiplier of pytorchcv's sqnxt23_w3d2, in the reference layer rules", Width1_5, CaffeRecipe),
        Published("1.5-SqNxt-23v5", "1.5-SqNxt-23v5, TF-style layout: 5×5 stem, blocks 2-4-14-1, parallel first blocks",
            "width multiplier of pytorchcv's sqnxt23v5_w3d2, in the TF port's layer rules", V5(Width1_5), CaffeRecipe),
        Pytorchcv("sqnxt23_w1", "1.0-SqNxt-23 in pytorchcv's layout; its pretrained weights: 57.49 / 80.94 % top-1/top-5", 1.0, V23Blocks),
        Pytorchcv("sqnxt23_w3d2", "1.5-SqNxt-23 in pytorchcv's layout; its pretrained weights: 65.11 / 86.50 %", 1.5, V23Blocks),
        Pytorchcv("sqnxt23_w2", "2.0-SqNxt-23 in pytorchcv's layout; its pretrained weights: 69.38 / 89.00 %", 2.0, V23Blocks),
        Pytorchcv("sqnxt23v5_w1", "1.0-SqNxt-23v5 in pytorchcv's layout (7×7 stem); its pretrained weights: 59.23 / 82.15 %", 1.0, V5Blocks),
        Pytorchcv("sqnxt23v5_w3d2", "1.5-SqNxt-23v5 in pytorchcv's layout (7×7 stem)", 1.5, V5Blocks),
        Pytorchcv("sqnxt23v5_w2", "2.0-SqNxt-23v5 in pytorchcv's layout (7×7 stem); its pretrained weights: 70.37 / 89.34 %", 2.0, V5Blocks),
        new SqueezeNextConfiguration
        {
            Name = SmallImageName,
            Description = "1.0-SqNxt-23 for 28×28 images (Fashion-MNIST): 3×3 stride-1 stem, 10 classes",
            Source = "derived from 1.0-SqNxt-23 for small images; see docs/results.md",
            // A 7×7/2 stem and the max-pool would shrink 28×28 to 5×5 before the first block and to 1×1 by stage 3.
            // A 3×3 stride-1 stem keeps 13×13 entering the blocks, so the four stages still downsample 13→7→4→2.
            Architecture = Width1 with { StemKernel = 3, StemStride = 1, StemPadding = 1, NumClasses = 10, InputSize = 28 },
            Training = TfBatch256Recipe with
            {
                BatchSize = 128, Epochs = 15, BaseLearningRate = 0.1, WarmupSteps = 470, WarmupStartLearningRate = 0.025,
                WeightDecay = 1e-4, PreciseBatchNormBatches = 50,
            },
        },
    ];

    /// <summary>A configuration for 28×28 inputs, the demo and test default on Fashion-MNIST.</summary>
    public const string SmallImageName = "1.0-SqNxt-23-28px";

    /// <summary>Every named configuration, TF port first.</summary>
    public static IReadOnlyList<SqueezeNextConfiguration> All => Configurations;

    public static IEnumerable<string> Names => Configurations.Select(c => c.Name);

    /// <summary>The configurations in pytorchcv's layout, the one the published pretrained weights use.</summary>
    public static IEnumerable<string> PytorchcvNames => Configurations.Where(c => c.Source.StartsWith("pytorchcv", StringComparison.Ordinal)).Select(c => c.Name);

    public static SqueezeNextConfiguration? Find(string name) =>
        Configurations.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The named configuration; an unknown name fails with the list of known names.</summary>
    public static SqueezeNextConfiguration Get(string name) =>
        Find(name) ?? throw new InvalidConfigurationException(
            $"unknown configuration '{name}'; known configurations: {string.Join(", ", Names)}");

    /// <summary>
    /// A named configuration, or a user's JSON configuration file when <paramref name="nameOrPath"/> is a path to one
    /// (ends in .json or names an existing file).
    /// </summary>
    public static SqueezeNextConfiguration Resolve(string nameOrPath)
    {
        if (Find(nameOrPath) is { } named) return named;
        if (nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || File.Exists(nameOrPath))
            return ConfigurationFile.Load(nameOrPath);
        return Get(nameOrPath);
    }

    private static SqueezeNextConfiguration Tf(string name, string description, SqueezeNextArchitecture architecture, TrainingRecipe recipe) =>
        Published(name, description, string.Format(TfSource, name), architecture, recipe);

    private static SqueezeNextConfiguration Caffe(string name, string description, string prototxt, SqueezeNextArchitecture architecture) =>
        Published(name, description, string.Format(CaffeSource, prototxt), architecture, CaffeRecipe);

    private static SqueezeNextConfiguration Published(string name, string description, string source, SqueezeNextArchitecture architecture, TrainingRecipe recipe) =>
        new() { Name = name, Description = description, Source = source, Architecture = architecture, Training = recipe };

    /// <summary>A pytorchcv model: every width, the stem's and the head's included, multiplied by <paramref name="width"/>.</summary>
    private static SqueezeNextConfiguration Pytorchcv(string name, string description, double width, int[] blocks)
    {
        int Scale(int channels) => (int)Math.Round(channels * width);
        var architecture = PytorchcvLayout with
        {
            StageWidths = Width1.StageWidths.Select(Scale).ToArray(), BlocksPerStage = blocks,
            StemChannels = Scale(Width1.StemChannels), HeadChannels = Scale(Width1.HeadChannels),
        };
        return Published(name, description, string.Format(PytorchcvSource, name), architecture, PytorchcvRecipe);
    }
}
