using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>Parses <c>auto</c>, <c>cpu</c>, <c>cuda</c> and <c>cuda:N</c> into a TorchSharp device that exists here.</summary>
public static class DeviceSelector
{
    public static Device Resolve(string? name)
    {
        var text = (name ?? "auto").Trim().ToLowerInvariant();
        if (text is "auto")
            return cuda.is_available() ? CUDA : CPU;
        if (text is "cpu")
            return CPU;
        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"device '{name}' asked for, but CUDA is not available (this build uses libtorch-cpu, or no GPU is visible)");
            int index = 0;
            if (text.Length > 5 && (!int.TryParse(text.AsSpan(5), out index) || index < 0))
                throw new ArgumentException($"device '{name}' is not cuda:N with N a GPU number");
            if (index >= cuda.device_count())
                throw new ArgumentException($"device '{name}' asked for, but only {cuda.device_count()} GPU(s) are visible");
            return new Device(DeviceType.CUDA, index);
        }
        throw new ArgumentException($"device '{name}' is not one of auto, cpu, cuda, cuda:N");
    }
}
