namespace SqueezeNext.Vision.Model;

/// <summary>A configuration that cannot be used; each problem names its field.</summary>
public sealed class InvalidConfigurationException(IReadOnlyList<string> problems)
    : Exception(problems.Count == 1 ? problems[0] : $"invalid configuration ({problems.Count} problems): " + string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;

    public InvalidConfigurationException(string problem) : this([problem]) { }
}
