namespace SqueezeNext.Vision.Artifacts;

/// <summary>
/// <c>model.json</c> of a model artifact: the configuration the weights were made under (it must travel with them:
/// the separate-ReLU and ResNet-style layouts have identical parameter sets), the class labels and a weights checksum.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    public required SqueezeNextConfiguration Configuration { get; init; }

    /// <summary>Class labels in output order; null means the 1000 ILSVRC-2012 classes in sorted-synset order.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Where the weights came from (a training run, an import), for people reading the artifact.</summary>
    public string Origin { get; init; } = "";

    public DateTimeOffset CreatedAt { get; init; }

    public long TrainableParameters { get; init; }

    public string WeightsFile { get; init; } = ModelArtifact.WeightsFileName;

    /// <summary>Lower-case hex SHA-256 of the weights file, checked on load.</summary>
    public string WeightsSha256 { get; init; } = "";
}
