namespace SqueezeNext.Vision.Data;

/// <summary>
/// How a dataset's classes map onto a network's outputs. A 1000-output network trained on folders named by ILSVRC
/// synsets uses the standard ImageNet indices (so its predictions read as ImageNet labels); any other dataset's
/// classes are numbered in their own order and the network gets one output per class.
/// </summary>
public sealed record LabelSpace(
    SqueezeNextConfiguration Configuration,
    IReadOnlyList<string> ClassOrder,
    IReadOnlyList<string>? ModelClasses,
    string? Note)
{
    /// <summary>
    /// The label order a trained model's outputs follow: its own class list, or the ImageNet synsets for a
    /// 1000-output model without one; null when neither applies (the data's own order is then used).
    /// </summary>
    public static IReadOnlyList<string>? ClassOrderOf(Artifacts.ModelManifest manifest) =>
        manifest.Classes ?? (manifest.Configuration.Architecture.NumClasses == ImageNetClasses.Count ? ImageNetClasses.Synsets : null);

    public static LabelSpace For(SqueezeNextConfiguration configuration, string dataRoot) =>
        For(configuration, DatasetReader.DiscoverClasses(dataRoot));

    public static LabelSpace For(SqueezeNextConfiguration configuration, IReadOnlyList<string> classes)
    {
        int outputs = configuration.Architecture.NumClasses;
        if (outputs == ImageNetClasses.Count && classes.All(ImageNetClasses.IsSynset))
            return new LabelSpace(configuration, ImageNetClasses.Synsets, null, null);
        if (classes.Count == outputs)
            return new LabelSpace(configuration, classes, classes, null);

        var adapted = configuration with { Architecture = configuration.Architecture with { NumClasses = classes.Count } };
        return new LabelSpace(adapted, classes, classes,
            $"the dataset has {classes.Count} classes, so the network gets {classes.Count} outputs instead of the configuration's {outputs}");
    }
}
