using System.Text.RegularExpressions;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>A dataset name a message gave that is not acceptable; the message says why.</summary>
public sealed class InvalidDatasetNameException(string message) : Exception(message);

/// <summary>
/// Turns dataset names from messages into folders under the data root. A name is one folder name (letters, digits,
/// '.', '_', '-', not starting with a dot), so no message can reach outside the root; what the operator links
/// inside the root is the operator's choice.
/// </summary>
public sealed partial class DataRoot(IOptions<WorkerOptions> options)
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();

    public string Root { get; } = Path.GetFullPath(options.Value.DataRoot);

    public string Resolve(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidDatasetNameException("no dataset named");
        if (!NamePattern().IsMatch(name) || name.Contains("..", StringComparison.Ordinal))
            throw new InvalidDatasetNameException(
                $"dataset name '{Shorten(name)}' is not a folder name under the data root (letters, digits, '.', '_' and '-'; no paths)");
        var path = Path.Combine(Root, name);
        if (!Path.GetFullPath(path).StartsWith(Root.TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new InvalidDatasetNameException($"dataset name '{Shorten(name)}' points outside the data root");
        if (!Directory.Exists(path))
            throw new InvalidDatasetNameException($"no dataset '{name}' under the data root (see the datasets list)");
        return path;
    }

    public IEnumerable<string> Names() =>
        Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && NamePattern().IsMatch(n)).Select(n => n!).Order(StringComparer.Ordinal)
            : [];

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "..." : text;
}
