namespace SqueezeNext.Vision.Inference;

/// <summary>One output class as people read it.</summary>
public sealed record ClassLabel(int Index, string? Synset, string Name, string FullName);

/// <summary>
/// Names of a model's outputs: the ILSVRC-2012 table (index, synset, names) for 1000-class ImageNet models, or
/// the class list a model was trained with (synset folder names are looked up in the ImageNet table).
/// </summary>
public sealed class ClassLabels
{
    private readonly ClassLabel[] labels;

    private ClassLabels(ClassLabel[] labels) => this.labels = labels;

    public static ClassLabels ImageNet { get; } = new(ImageNetClasses.All
        .Select(c => new ClassLabel(c.Index, c.Synset, c.ShortName, c.Names)).ToArray());

    /// <summary>Labels for a model: <paramref name="classes"/> when it has its own, else ImageNet's.</summary>
    public static ClassLabels For(IReadOnlyList<string>? classes, int outputs)
    {
        if (classes is null)
        {
            if (outputs != ImageNetClasses.Count)
                return new ClassLabels(Enumerable.Range(0, outputs).Select(i => new ClassLabel(i, null, $"class {i}", $"class {i}")).ToArray());
            return ImageNet;
        }
        return new ClassLabels(classes.Select((name, i) => ImageNetClasses.IsSynset(name)
            ? new ClassLabel(i, name, ImageNetClasses.All[ImageNetClasses.IndexOf(name)].ShortName, ImageNetClasses.All[ImageNetClasses.IndexOf(name)].Names)
            : new ClassLabel(i, null, name, name)).ToArray());
    }

    public int Count => labels.Length;

    public ClassLabel this[int index] => labels[index];
}
