namespace SqueezeNext.Vision.Runtime;

/// <summary>
/// Scalars that outlive every native call they are passed to. TorchSharp's implicit conversions (<c>t.add_(1)</c>,
/// <c>add(x, alpha: 0.5)</c>, <c>add(x)</c>, which passes 1) make a <see cref="Scalar"/> that nothing references once
/// its handle has been read, so a collection during the call can finalize it while libtorch still reads it: training
/// under collector pressure failed with "Expected false to be true" and "Unknown scalar type". Hot paths therefore pass
/// these constants, or a scalar held by a <c>using</c> until the call returns.
/// </summary>
public static class KeptScalars
{
    /// <summary>The integer 1: a valid alpha for floating and integral tensors alike.</summary>
    public static readonly Scalar One = 1.ToScalar();
}
