using SqueezeNext.Vision.Runtime;
using TorchSharp;
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

    public SqueezeNextArchitecture Architecture => Plan.Architecture;

    public IEnumerable<SqueezeNextBlock> Blocks => stages.SelectMany(stage => stage.children().Cast<SqueezeNextBlock>());

    public override Tensor forward(Tensor input)
    {
        // Each activation is released as soon as the next layer has consumed it, as PyTorch's reference counting does:
        // left to the scope, a forward pass would hold every layer's output at once (2.6 times PyTorch's peak memory
        // in inference). Releasing a handle never frees what autograd saved for the backward pass.
        using var scope = NewDisposeScope();
        var x = Consume(stem.forward(input), pool.forward);
        foreach (var block in Blocks) x = Consume(x, block.forward);
        x = Consume(x, head.forward);
        x = Consume(x, t => nn.functional.adaptive_avg_pool2d(t, 1));
        x = Consume(x, t => t.flatten(1));
        return Consume(x, classifier.forward).MoveToOuterDisposeScope();
    }

    /// <summary>Applies <paramref name="layer"/> to <paramref name="activation"/> and releases the activation.</summary>
    internal static Tensor Consume(Tensor activation, Func<Tensor, Tensor> layer)
    {
        var output = layer(activation);
        if (!ReferenceEquals(output, activation)) activation.Dispose();
        return output;
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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            stem.Dispose();
            pool.Dispose();
            foreach (var stage in stages) stage.Dispose();
            head.Dispose();
            classifier.Dispose();
        }
        base.Dispose(disposing);
    }
}
