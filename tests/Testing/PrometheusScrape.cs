using System.Globalization;
using System.Text.RegularExpressions;

namespace SqueezeNext.Testing;

/// <summary>One sample of a Prometheus text exposition: a series name, its labels and its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public override string ToString() => $"{Name}{{{string.Join(",", Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {Value}";
}

/// <summary>
/// A scrape of a host's <c>/metrics</c>, read into samples. Written here because the text format is a few lines of
/// grammar and the tests only read it; no maintained .NET parser of it exists.
/// </summary>
public sealed partial class PrometheusScrape(IReadOnlyList<PrometheusSample> samples, string text)
{
    public IReadOnlyList<PrometheusSample> Samples { get; } = samples;

    public string Text { get; } = text;

    public static async Task<PrometheusScrape> ReadAsync(Uri host)
    {
        using var http = new HttpClient();
        string text = await http.GetStringAsync(new Uri(host, "/metrics"));
        return Parse(text);
    }

    public static PrometheusScrape Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var match = SampleLine().Match(line);
            if (!match.Success) throw new FormatException($"not a Prometheus sample: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value));
            string value = match.Groups["value"].Value;
            samples.Add(new PrometheusSample(match.Groups["name"].Value, labels, value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
            }));
        }
        return new PrometheusScrape(samples, text);
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include every one of <paramref name="labels"/> ("key=value").</summary>
    public IEnumerable<PrometheusSample> Series(string name, params string[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => l.Split('=', 2) is [var key, var value] && s.Labels.GetValueOrDefault(key) == value));

    /// <summary>The sum of the matching samples; fails naming what the scrape had when there are none.</summary>
    public double Value(string name, params string[] labels)
    {
        var matching = Series(name, labels).ToList();
        if (matching.Count == 0)
            throw new InvalidOperationException($"no sample {name} {string.Join(",", labels)} in the scrape; it has:\n" +
                                               string.Join("\n", Samples.Where(s => s.Name.StartsWith(name.Split('_')[0], StringComparison.Ordinal)).Select(s => s.ToString())));
        return matching.Sum(s => s.Value);
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(""""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"""")]
    private static partial Regex LabelPair();
}
