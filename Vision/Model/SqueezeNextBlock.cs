using SqueezeNext.Vision.Runtime;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Model;

/// <summary>
/// A SqueezeNext block: output = ReLU(exp(sepB(sepA(sq2(sq1(x))))) + shortcut), where the shortcut is the input, a
/// parallel 1×1 projection of it, or (projection-first) the projection that also feeds the branch.
/// </summary>
public sealed class SqueezeNextBlock : nn.Module<Tensor, Tensor>
{
    private readonly ConvBatchNorm? projection;
    private readonly ConvBatchNorm? shortcut;
    private readonly ConvBatchNorm sq1;
    private readonly ConvBatchNorm sq2;
    private readonly ConvBatchNorm sepA;
    private readonly ConvBatchNorm sepB;
    private readonly ConvBatchNorm exp;

    public SqueezeNextBlock(BlockPlan plan) : base(plan.Name)
    {
        Plan = plan;
        // Registered in this order since the first releases: it is the order of initialisation and of the state dict.
        if (plan.Shortcut == ShortcutKind.ProjectionFirst) projection = Register("projection", new ConvBatchNorm(plan.Projection!));
        if (plan.Shortcut == ShortcutKind.ParallelProjection) shortcut = Register("shortcut", new ConvBatchNorm(plan.Projection!));
        sq1 = Register("sq1", new ConvBatchNorm(plan.Sq1));
        sq2 = Register("sq2", new ConvBatchNorm(plan.Sq2));
        sepA = Register("sepA", new ConvBatchNorm(plan.SepA));
        sepB = Register("sepB", new ConvBatchNorm(plan.SepB));
        exp = Register("exp", new ConvBatchNorm(plan.Exp));
    }

    public BlockPlan Plan { get; }

    public override Tensor forward(Tensor input)
    {
        var x = projection is null ? input : projection.forward(input);
        var branch = ReleasingChain.From(x).Then(sq1.forward).Then(sq2.forward).Then(sepA.forward).Then(sepB.forward).Then(exp.forward).Result;
        var residual = shortcut is null ? x : shortcut.forward(x);
        // Not in place where gradients are recorded: with separate ReLUs, exp's output is a ReLU result that ReLU's
        // backward still needs. Without them the branch is not needed any more.
        var output = is_grad_enabled() ? branch.add(residual, KeptScalars.One).relu_() : branch.add_(residual, KeptScalars.One).relu_();
        ReleasingChain.Release(branch, keep: output);
        ReleasingChain.Release(residual, keep: input);
        ReleasingChain.Release(x, input, residual);
        return output;
    }

    private ConvBatchNorm Register(string name, ConvBatchNorm unit)
    {
        register_module(name, unit);
        return unit;
    }
}
