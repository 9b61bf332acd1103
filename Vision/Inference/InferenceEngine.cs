namespace SqueezeNext.Vision.Inference;

/// <summary>Which library runs a classifier's forward passes.</summary>
public enum InferenceEngine
{
    /// <summary>ONNX Runtime on the model's ONNX graph (<see cref="Onnx.OnnxModelFile"/>).</summary>
    OnnxRuntime,

    /// <summary>TorchSharp on the network, BatchNorm folded.</summary>
    Torch,
}

/// <summary>The engines' names in settings and on the command line.</summary>
public static class InferenceEngines
{
    public const string OnnxRuntimeName = "onnxruntime";
    public const string TorchName = "torch";

    public static IReadOnlyList<string> Names { get; } = [OnnxRuntimeName, TorchName];

    /// <summary>The engine measured faster on CPU (docs/performance.md, "Inference engines").</summary>
    public const InferenceEngine Default = InferenceEngine.OnnxRuntime;

    public static string Name(InferenceEngine engine) => engine == InferenceEngine.OnnxRuntime ? OnnxRuntimeName : TorchName;

    public static InferenceEngine Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        OnnxRuntimeName => InferenceEngine.OnnxRuntime,
        TorchName => InferenceEngine.Torch,
        _ => throw new ArgumentException($"unknown inference engine '{name}': {OnnxRuntimeName} or {TorchName}"),
    };
}
