using SqueezeNext.Vision.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// SGD with momentum in PyTorch's form (not Nesterov, no dampening): v ← μ·v + (g + λ·p); p ← p − lr·v, with weight
/// decay λ on every trainable tensor as Caffe applies it (BN scale and shift too). The velocity buffers are named
/// after their parameters so a checkpoint restores them exactly.
/// </summary>
public sealed class SgdMomentum : IDisposable
{
    private readonly (string Name, Parameter Parameter, Tensor Velocity)[] state;
    // Held for the optimiser's lifetime: a temporary scalar could be finalized while libtorch reads it (KeptScalars).
    private readonly Scalar momentumScalar;
    private readonly Scalar weightDecayScalar;

    public SgdMomentum(IEnumerable<(string Name, Parameter Parameter)> parameters, double momentum, double weightDecay)
    {
        Momentum = momentum;
        WeightDecay = weightDecay;
        momentumScalar = momentum.ToScalar();
        weightDecayScalar = weightDecay.ToScalar();
        using var noGrad = no_grad();
        state = parameters
            .Where(p => p.Parameter.requires_grad)
            .Select(p => (p.Name, p.Parameter, zeros_like(p.Parameter).DetachFromDisposeScope()))
            .ToArray();
    }

    public double Momentum { get; }
    public double WeightDecay { get; }

    public const string StatePrefix = "velocity.";

    /// <summary>
    /// Zeroes the gradients in place (dropping them instead, PyTorch's <c>set_to_none</c>, made no difference that this
    /// machine's noise let through: the gradients are 0.3 % of a step's memory traffic).
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var (_, parameter, _) in state)
        {
            using var grad = parameter.grad;
            grad?.zero_();
        }
    }

    public void Step(double learningRate)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var descent = (-learningRate).ToScalar();
        foreach (var (_, parameter, velocity) in state)
        {
            var grad = parameter.grad;
            if (grad is null) continue;
            var direction = WeightDecay > 0 ? grad.add(parameter, weightDecayScalar) : grad;
            velocity.mul_(momentumScalar).add_(direction, KeptScalars.One);
            parameter.add_(velocity, descent);
        }
    }

    /// <summary>Velocity buffers as (<c>velocity.&lt;parameter&gt;</c>, tensor).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> StateTensors() =>
        state.Select(s => (StatePrefix + s.Name, s.Velocity));

    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, string origin)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter, velocity) in state)
        {
            if (!tensors.TryGetValue(StatePrefix + name, out var saved))
                throw new InvalidDataException($"{origin} has no optimiser state for '{name}'");
            if (!saved.shape.SequenceEqual(velocity.shape))
                throw new InvalidDataException($"{origin}: optimiser state for '{name}' is [{string.Join(", ", saved.shape)}], expected [{string.Join(", ", velocity.shape)}]");
            velocity.copy_(saved);
        }
    }

    public void Dispose()
    {
        foreach (var (_, _, velocity) in state) velocity.Dispose();
        momentumScalar.Dispose();
        weightDecayScalar.Dispose();
    }
}
