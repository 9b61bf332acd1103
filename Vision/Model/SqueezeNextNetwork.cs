using SqueezeNext.Vision.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Model;

/// <summary>
/// SqueezeNext (Gholami et al., 2018): a 7×7 or 5×5 stem with max-pool, four stages of SqueezeNext blocks, a 1×1 head
/// convolution, global average pooling and a classifier (bias-free except in the pytorchcv layout). Input [N, 3, H, W], output logits [N, classes].
/// </summary>
public sealed class SqueezeNextNetwork : nn.Module<Tensor, Tensor>
{
    private readonly ConvBatchNorm stem;
    private readonly MaxPool2d pool;
    private readonly List<Sequential> stages = [];
    private readonly ConvBatchNorm head;
    private readonly Linear classifier;

    /// <summary>Builds the network for <paramref name="architecture"/> and initialises it.</summary>
    /// <param name="architecture">The layer layout.</param>
    /// <param name="init">Weight initialisation for convolutions and the classifier.</param>
    /// <param name="seed">When given, initialisation is reproducible: the same seed gives the same weights.</param>
    public SqueezeNextNetwork(SqueezeNextArchitecture architecture, WeightInit init = WeightInit.XavierUniform, long? seed = null)
        : base("SqueezeNext")
    {
        Plan = NetworkPlan.For(architecture);
        stem = new ConvBatchNorm(Plan.Stem);
        pool = nn.MaxPool2d(kernel_size: NetworkPlan.MaxPoolKernel, stride: NetworkPlan.MaxPoolStride,
            ceil_mode: architecture.MaxPoolRounding == PoolRounding.Ceil);
        register_module("stem", stem);
        register_module("pool", pool);
        for (int s = 0; s < Plan.Stages.Count; s++)
        {
            var blocks = Plan.Stages[s]
                .Select((block, b) => ($"block{b + 1}", (nn.Module<Tensor, Tensor>)new SqueezeNextBlock(block)))
                .ToArray();
            var stage = nn.Sequential(blocks);
            stages.Add(stage);
            register_module($"stage{s + 1}", stage);
        }
        head = new ConvBatchNorm(Plan.Head);
        register_module("head", head);
        classifier = nn.Linear(Plan.ClassifierInputs, Plan.NumClasses, hasBias: architecture.ClassifierBias);
        register_module("classifier", classifier);

        Initialize(init, seed);
    }

    public NetworkPlan Plan { get; }

    /// <summary>Runs on CPU in the channels-last layout (<see cref="ToChannelsLast"/>); off only to measure the difference.</summary>
    public bool ChannelsLastOnCpu { get; set; } = true;

    public SqueezeNextArchitecture Architecture => Plan.Architecture;

    /// <summary>The final linear layer: logits = features · weightᵀ (+ bias).</summary>
    public Linear Classifier => classifier;

    /// <summary>
    /// Folds every BatchNorm into the convolution before it for inference (<see cref="ConvBatchNorm.FoldBatchNorm"/>):
    /// evaluation-mode forward passes then skip a pass over every layer's output. Training mode drops the folds.
    /// </summary>
    public void FoldBatchNorm()
    {
        foreach (var unit in modules().OfType<ConvBatchNorm>()) unit.FoldBatchNorm();
    }

    /// <summary>Releases the folds of <see cref="FoldBatchNorm"/>: evaluation mode runs convolution and BatchNorm again.</summary>
    public void UnfoldBatchNorm()
    {
        foreach (var unit in modules().OfType<ConvBatchNorm>()) unit.UnfoldBatchNorm();
    }

    public IEnumerable<SqueezeNextBlock> Blocks => stages.SelectMany(stage => stage.children().Cast<SqueezeNextBlock>());

    public override Tensor forward(Tensor input)
    {
        // A safety net for anything a layer leaves behind; the chain itself releases each activation once consumed.
        using var scope = NewDisposeScope();
        var chain = ReleasingChain.From(input).Then(t => ChannelsLastOnCpu && t.device_type == DeviceType.CPU ? ToChannelsLast(t) : t)
            .Then(stem.forward).Then(pool.forward);
        foreach (var block in Blocks) chain = chain.Then(block.forward);
        return chain.Then(head.forward)
            .Then(t => nn.functional.adaptive_avg_pool2d(t, 1))
            .Then(t => t.flatten(1))
            .Then(classifier.forward).Result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same values laid out NHWC (PyTorch's channels_last) behind the NCHW shape; <paramref name="input"/> itself if
    /// it already is. Every later layer keeps the layout. On CPU, oneDNN's convolutions and libtorch's BatchNorm and
    /// max-pool kernels are vectorised over channels in this layout: training ran 1.5 and inference 1.8 times as fast
    /// as NCHW at batch 32 (docs/performance.md).
    /// </summary>
    public static Tensor ToChannelsLast(Tensor input)
    {
        if (IsChannelsLast(input)) return input;
        using var nhwc = input.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    public static bool IsChannelsLast(Tensor tensor)
    {
        if (tensor.dim() != 4) return false;
        var shape = tensor.shape;
        var strides = tensor.stride();
        long channels = shape[1], height = shape[2], width = shape[3];
        return strides[1] == 1 && strides[3] == channels && strides[2] == width * channels && strides[0] == height * width * channels;
    }

    private void Initialize(WeightInit init, long? seed)
    {
        using var noGrad = no_grad();
        Generator? generator = seed is null ? null : new Generator((ulong)seed.Value);
        try
        {
            foreach (var module in modules())
            {
                switch (module)
                {
                    case Conv2d conv:
                        InitializeWeight(conv.weight!, init, generator);
                        conv.bias?.zero_();
                        break;
                    case Linear linear:
                        InitializeWeight(linear.weight!, init, generator);
                        linear.bias?.zero_();
                        break;
                    case BatchNorm2d bn:
                        bn.weight!.fill_(KeptScalars.One);
                        bn.bias!.zero_();
                        break;
                }
            }
        }
        finally
        {
            generator?.Dispose();
        }
    }

    private static void InitializeWeight(Tensor weight, WeightInit init, Generator? generator)
    {
        // fan_in = Cin/g·k_h·k_w, fan_out = Cout·k_h·k_w (PyTorch's convention for grouped convolutions).
        long receptive = weight.dim() > 2 ? weight.shape.Skip(2).Aggregate(1L, (a, b) => a * b) : 1;
        double fanIn = weight.shape[1] * receptive;
        double fanOut = weight.shape[0] * receptive;
        switch (init)
        {
            case WeightInit.XavierUniform:
                double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
                weight.uniform_(-bound, bound, generator);
                break;
            case WeightInit.KaimingNormal:
                weight.normal_(0, Math.Sqrt(2.0 / fanOut), generator);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(init), init, "unknown weight initialisation");
        }
    }
}
