using SqueezeNext.Vision.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Model;

/// <summary>Convolution (biased only in the pytorchcv layout), BatchNorm, and an optional ReLU: the unit every SqueezeNext layer is made of.</summary>
public sealed class ConvBatchNorm : nn.Module<Tensor, Tensor>
{
    /// <summary>BatchNorm epsilon of the reference implementations.</summary>
    public const double BatchNormEpsilon = 1e-5;

    /// <summary>PyTorch-style momentum for a running-average decay of 0.999.</summary>
    public const double BatchNormMomentum = 0.001;

    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly bool relu;
    private Tensor? foldedWeight, foldedBias;

    public ConvBatchNorm(ConvSpec spec) : base(spec.Name)
    {
        Spec = spec;
        conv = nn.Conv2d(spec.InChannels, spec.OutChannels,
            kernel_size: (spec.KernelHeight, spec.KernelWidth),
            stride: (spec.Stride, spec.Stride),
            padding: (spec.PaddingHeight, spec.PaddingWidth),
            groups: spec.Groups,
            bias: spec.Bias);
        bn = nn.BatchNorm2d(spec.OutChannels, eps: BatchNormEpsilon, momentum: BatchNormMomentum);
        relu = spec.Relu;
        register_module("conv", conv);
        register_module("bn", bn);
    }

    public ConvSpec Spec { get; }

    public Conv2d Convolution => conv;

    public BatchNorm2d BatchNorm => bn;

    /// <summary>Whether inference runs the folded convolution (<see cref="FoldBatchNorm"/>).</summary>
    public bool IsFolded => foldedWeight is not null;

    /// <summary>
    /// Folds BatchNorm's running statistics and scale into a copy of the convolution's weights and bias, so that
    /// inference (evaluation mode) runs one biased convolution instead of a convolution and a BatchNorm pass over its
    /// output. The parameters themselves are untouched; the first forward pass in training mode drops the fold, since
    /// training changes what it was computed from. Fold again after loading other weights.
    /// </summary>
    public void FoldBatchNorm()
    {
        UnfoldBatchNorm();
        var (weight, bias) = FoldedParameters();
        // Laid out as the activations are (channels-last on CPU), so that oneDNN need not reorder it at every call.
        if (weight.device_type == DeviceType.CPU)
        {
            var channelsLast = SqueezeNextNetwork.ToChannelsLast(weight);
            if (!ReferenceEquals(channelsLast, weight)) weight.Dispose();
            weight = channelsLast;
        }
        foldedWeight = weight;
        foldedBias = bias;
    }

    /// <summary>
    /// The convolution with BatchNorm's running statistics and scale folded in: weight·γ/√(σ²+ε) and
    /// (bias − μ)·γ/√(σ²+ε) + β, new tensors the caller owns. What <see cref="FoldBatchNorm"/> runs and the ONNX export writes.
    /// </summary>
    public (Tensor Weight, Tensor Bias) FoldedParameters()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var epsilon = bn.eps.ToScalar();
        var factor = bn.weight!.div(bn.running_var!.add(epsilon).sqrt());
        var centred = conv.bias is { } bias ? bias.sub(bn.running_mean!) : bn.running_mean!.neg();
        var weight = conv.weight!.mul(factor.reshape(-1, 1, 1, 1));
        var shift = centred.mul(factor).add(bn.bias!);
        return (weight.DetachFromDisposeScope(), shift.DetachFromDisposeScope());
    }

    /// <summary>Releases the fold (<see cref="FoldBatchNorm"/>): evaluation mode runs convolution and BatchNorm again.</summary>
    public void UnfoldBatchNorm()
    {
        foldedWeight?.Dispose();
        foldedBias?.Dispose();
        foldedWeight = foldedBias = null;
    }

    public override Tensor forward(Tensor input)
    {
        if (foldedWeight is not null)
        {
            if (!training)
            {
                var folded = nn.functional.conv2d(input, foldedWeight, foldedBias,
                    strides: [Spec.Stride, Spec.Stride], padding: [Spec.PaddingHeight, Spec.PaddingWidth], groups: Spec.Groups);
                return relu ? folded.relu_() : folded;
            }
            UnfoldBatchNorm();
        }
        var output = ReleasingChain.From(input).Then(conv.forward).Then(Normalize).Result;
        // In place is safe: BatchNorm's backward needs its input, not its output.
        return relu ? output.relu_() : output;
    }

    /// <summary>
    /// BatchNorm2d's own forward, counting batches with a kept scalar: TorchSharp's counts them with
    /// <c>num_batches_tracked.add_(1)</c>, whose temporary scalar a finalizer can free mid-call (<see cref="KeptScalars"/>).
    /// </summary>
    private Tensor Normalize(Tensor input)
    {
        double momentum = bn.momentum ?? 0;
        if (bn.training && bn.num_batches_tracked is { } tracked)
        {
            tracked.add_(KeptScalars.One, KeptScalars.One);
            // No momentum means a cumulative average, as PyTorch keeps it (PreciseBatchNorm relies on this).
            if (bn.momentum is null) momentum = 1.0 / tracked.item<long>();
        }
        return nn.functional.batch_norm(input, bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.training, momentum, bn.eps);
    }

    /// <summary>The fold is not a registered tensor, so Module's own disposal would not release it.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) UnfoldBatchNorm();
        base.Dispose(disposing);
    }
}
