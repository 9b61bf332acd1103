using static TorchSharp.torch;

namespace SqueezeNext.Vision.Model;

/// <summary>
/// Runs layers one after another and releases each intermediate activation as soon as the next layer has consumed it,
/// as PyTorch's reference counting does; the chain's input stays the caller's. Left to a dispose scope, a forward pass
/// would hold every layer's output at once. Releasing a handle never frees what autograd saved for the backward pass.
/// </summary>
internal readonly struct ReleasingChain
{
    private readonly Tensor input;

    private ReleasingChain(Tensor input, Tensor current)
    {
        this.input = input;
        Result = current;
    }

    /// <summary>The last layer's output (the input itself before any layer ran).</summary>
    public Tensor Result { get; }

    public static ReleasingChain From(Tensor input) => new(input, input);

    public ReleasingChain Then(Func<Tensor, Tensor> layer)
    {
        var output = layer(Result);
        if (!ReferenceEquals(Result, input)) Release(Result, keep: output);
        return new ReleasingChain(input, output);
    }

    /// <summary>Releases <paramref name="tensor"/> unless it is one of <paramref name="keep"/> (a layer may return its input).</summary>
    public static void Release(Tensor tensor, params ReadOnlySpan<Tensor> keep)
    {
        foreach (var kept in keep)
            if (ReferenceEquals(tensor, kept)) return;
        tensor.Dispose();
    }
}
