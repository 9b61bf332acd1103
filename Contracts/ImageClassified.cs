namespace SqueezeNext.Contracts;

/// <summary>One of the most likely classes of an image.</summary>
/// <param name="Index">Output index (for ImageNet models, the line of the sorted synset list).</param>
/// <param name="Synset">WordNet synset for ImageNet classes, null for a dataset's own classes.</param>
/// <param name="Name">Short human-readable name ("tabby").</param>
/// <param name="FullName">All names ("tabby, tabby cat").</param>
public sealed record ClassPrediction(int Index, string? Synset, string Name, string FullName, double Probability);

/// <summary>Answer to <see cref="ClassifyImage"/>: the top labels, most likely first.</summary>
/// <param name="BatchSize">How many requests shared the forward pass.</param>
public sealed record ImageClassified(
    Guid RequestId,
    string ModelName,
    int ModelVersion,
    IReadOnlyList<ClassPrediction> Predictions,
    double InferenceMilliseconds,
    int BatchSize);
