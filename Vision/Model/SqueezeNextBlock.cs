using SqueezeNext.Vision.Runtime;
using TorchSharp;
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
        if (plan.Shortcut == ShortcutKind.ProjectionFirst) projection = new ConvBatchNorm(plan.Projection!);
        sq1 = new ConvBatchNorm(plan.Sq1);
        sq2 = new ConvBatchNorm(plan.Sq2);
        sepA = new ConvBatchNorm(plan.SepA);
        sepB = new ConvBatchNorm(plan.SepB);
        exp = new ConvBatchNorm(plan.Exp);
        if (plan.Shortcut == ShortcutKind.ParallelProjection) shortcut = new ConvBatchNorm(plan.Projection!);
        RegisterComponents();
    }

    public BlockPlan Plan { get; }

    public override Tensor forward(Tensor input)
    {
        var x = projection is null ? input : projection.forward(input);
        var branch = sq1.forward(x);
        branch = SqueezeNextNetwork.Consume(branch, sq2.forward);
        branch = SqueezeNextNetwork.Consume(branch, sepA.forward);
        branch = SqueezeNextNetwork.Consume(branch, sepB.forward);
        branch = SqueezeNextNetwork.Consume(branch, exp.forward);
        var residual = shortcut is null ? x : shortcut.forward(x);
        // Not in place where gradients are recorded: with separate ReLUs, exp's output is a ReLU result that ReLU's
        // backward still needs. Without them the branch is not needed any more.
        var output = is_grad_enabled() ? branch.add(residual, KeptScalars.One).relu_() : branch.add_(residual, KeptScalars.One).relu_();
        if (!ReferenceEquals(output, branch)) branch.Dispose();
        if (!ReferenceEquals(residual, input)) residual.Dispose();
        if (!ReferenceEquals(x, input) && !ReferenceEquals(x, residual)) x.Dispose();
        return output;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            projection?.Dispose();
            sq1.Dispose();
            sq2.Dispose();
            sepA.Dispose();
            sepB.Dispose();
            exp.Dispose();
            shortcut?.Dispose();
        }
        base.Dispose(disposing);
    }
}
