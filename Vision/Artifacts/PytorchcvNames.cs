using System.Text.RegularExpressions;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>
/// The tensor names of pytorchcv's SqueezeNext state dicts (SQUEEZENEXT.md §9) and this project's names for the same
/// tensors: <c>features.init_block.conv.*</c> is <c>stem.*</c>, <c>features.stage2.unit1.conv1..conv5.*</c> are
/// <c>stage2.block1.sq1, sq2, sepA, sepB, exp.*</c>, <c>identity_conv</c> is <c>shortcut</c>,
/// <c>features.final_block.*</c> is <c>head.*</c> and <c>output.*</c> is <c>classifier.*</c>.
/// </summary>
public static partial class PytorchcvNames
{
    private static readonly string[] UnitConvs = ["sq1", "sq2", "sepA", "sepB", "exp"];

    /// <summary>True when the names look like a pytorchcv state dict.</summary>
    public static bool Uses(IEnumerable<string> names) =>
        names.Any(name => name.StartsWith("features.", StringComparison.Ordinal) || name.StartsWith("output.", StringComparison.Ordinal));

    /// <summary>This project's name for a pytorchcv tensor name, or the name unchanged when it is not one.</summary>
    public static string ToProject(string name)
    {
        if (Stem().Match(name) is { Success: true } stem) return $"stem.{stem.Groups[1]}";
        if (UnitConv().Match(name) is { Success: true } conv)
            return $"stage{conv.Groups[1]}.block{conv.Groups[2]}.{UnitConvs[int.Parse(conv.Groups[3].Value) - 1]}.{conv.Groups[4]}";
        if (Identity().Match(name) is { Success: true } identity) return $"stage{identity.Groups[1]}.block{identity.Groups[2]}.shortcut.{identity.Groups[3]}";
        if (FinalBlock().Match(name) is { Success: true } head) return $"head.{head.Groups[1]}";
        if (Output().Match(name) is { Success: true } output) return $"classifier.{output.Groups[1]}";
        return name;
    }

    /// <summary>The pytorchcv name of one of this project's tensors, or the name unchanged when it has none.</summary>
    public static string FromProject(string name)
    {
        if (name.StartsWith("stem.", StringComparison.Ordinal)) return "features.init_block.conv." + name["stem.".Length..];
        if (name.StartsWith("head.", StringComparison.Ordinal)) return "features.final_block." + name["head.".Length..];
        if (name.StartsWith("classifier.", StringComparison.Ordinal)) return "output." + name["classifier.".Length..];
        if (ProjectBlock().Match(name) is { Success: true } block)
        {
            var layer = block.Groups[3].Value;
            var pytorchcvLayer = layer == "shortcut" ? "identity_conv" : Array.IndexOf(UnitConvs, layer) is var i and >= 0 ? $"conv{i + 1}" : null;
            if (pytorchcvLayer is not null) return $"features.stage{block.Groups[1]}.unit{block.Groups[2]}.{pytorchcvLayer}.{block.Groups[4]}";
        }
        return name;
    }

    [GeneratedRegex(@"^features\.init_block\.conv\.((?:conv|bn)\..+)$")]
    private static partial Regex Stem();

    [GeneratedRegex(@"^features\.stage(\d+)\.unit(\d+)\.conv([1-5])\.((?:conv|bn)\..+)$")]
    private static partial Regex UnitConv();

    [GeneratedRegex(@"^features\.stage(\d+)\.unit(\d+)\.identity_conv\.((?:conv|bn)\..+)$")]
    private static partial Regex Identity();

    [GeneratedRegex(@"^features\.final_block\.((?:conv|bn)\..+)$")]
    private static partial Regex FinalBlock();

    [GeneratedRegex(@"^output\.(weight|bias)$")]
    private static partial Regex Output();

    [GeneratedRegex(@"^stage(\d+)\.block(\d+)\.(\w+)\.((?:conv|bn)\..+)$")]
    private static partial Regex ProjectBlock();
}
