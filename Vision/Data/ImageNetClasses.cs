using System.Reflection;

namespace SqueezeNext.Vision.Data;

/// <summary>One ILSVRC-2012 class: its output index, WordNet synset and human-readable names.</summary>
public sealed record ImageNetClass(int Index, string Synset, string Names)
{
    /// <summary>The first of the comma-separated names ("tabby" for "tabby, tabby cat").</summary>
    public string ShortName => Names.Split(',')[0].Trim();
}

/// <summary>
/// The 1000 ILSVRC-2012 classes in the order every public SqueezeNext checkpoint uses (sorted synsets, n01440764
/// first), and the validation ground truth, both embedded from the project's data folder.
/// </summary>
public static class ImageNetClasses
{
    public const int Count = 1000;

    private static readonly Lazy<IReadOnlyList<ImageNetClass>> Table = new(LoadTable);
    private static readonly Lazy<IReadOnlyDictionary<string, int>> IndexBySynset =
        new(() => Table.Value.ToDictionary(c => c.Synset, c => c.Index, StringComparer.Ordinal));
    private static readonly Lazy<IReadOnlyList<string>> ValidationSynsets = new(LoadValidationGroundTruth);

    public static IReadOnlyList<ImageNetClass> All => Table.Value;

    /// <summary>Synsets in output order.</summary>
    public static IReadOnlyList<string> Synsets => Table.Value.Select(c => c.Synset).ToArray();

    /// <summary>Line k (from 0) is the synset of <c>ILSVRC2012_val_{k+1:00000000}.JPEG</c>; 50,000 lines.</summary>
    public static IReadOnlyList<string> ValidationGroundTruth => ValidationSynsets.Value;

    public static bool IsSynset(string name) => IndexBySynset.Value.ContainsKey(name);

    public static int IndexOf(string synset) =>
        IndexBySynset.Value.TryGetValue(synset, out var index) ? index : throw new KeyNotFoundException($"'{synset}' is not an ILSVRC-2012 synset");

    private static IReadOnlyList<ImageNetClass> LoadTable()
    {
        var lines = ReadResource("SqueezeNext.Vision.imagenet-classes.tsv");
        var classes = lines.Skip(1).Where(l => l.Length > 0).Select(line =>
        {
            var parts = line.Split('\t');
            return new ImageNetClass(int.Parse(parts[0]), parts[1], parts[2]);
        }).ToArray();
        if (classes.Length != Count || classes.Select((c, i) => c.Index == i).Any(ok => !ok))
            throw new InvalidDataException("the embedded ImageNet class table is damaged");
        return classes;
    }

    private static IReadOnlyList<string> LoadValidationGroundTruth() =>
        ReadResource("SqueezeNext.Vision.imagenet-val-ground-truth.txt").Where(l => l.Length > 0).ToArray();

    private static IEnumerable<string> ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line.TrimEnd('\r'));
        return lines;
    }
}
