using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>
/// Reads a PyTorch state dict as <c>torch.save</c> writes it (<c>.pth</c>, <c>.pt</c>) into named tensors, with
/// TorchSharp.PyBridge's unpickler, which builds tensors and plain containers only and runs no code from the file. A
/// checkpoint that wraps its weights in <c>{"state_dict": ...}</c> or <c>{"model": ...}</c> is unwrapped.
/// </summary>
public static class PytorchStateDict
{
    /// <summary>Larger files are refused before reading: the largest SqueezeNext state dict is about 14 MB.</summary>
    public const long MaxFileBytes = 1L << 30;

    public static List<(string Name, Tensor Tensor)> Read(string file)
    {
        var info = new FileInfo(file);
        if (!info.Exists) throw new ArtifactException($"'{file}' does not exist");
        if (info.Length > MaxFileBytes)
            throw new ArtifactException($"'{file}' is {info.Length:N0} bytes, more than the {MaxFileBytes:N0} a state dict may have here");

        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(file);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArtifactException($"'{file}' is not a PyTorch state dict that can be read ({e.GetType().Name}: {e.Message})");
        }

        foreach (var wrapper in new[] { "state_dict", "model" })
            if (table[wrapper] is Hashtable inner) table = inner;

        var tensors = new List<(string Name, Tensor Tensor)>();
        string? problem = null;
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string name && entry.Value is Tensor tensor) tensors.Add((name, tensor));
            else problem ??= $"'{file}' holds '{entry.Key}' ({entry.Value?.GetType().Name ?? "null"}), which is not a named tensor: a state dict maps names to tensors";
        }
        if (problem is not null)
        {
            foreach (DictionaryEntry entry in table) (entry.Value as Tensor)?.Dispose();
            throw new ArtifactException(problem);
        }
        return tensors;
    }
}
