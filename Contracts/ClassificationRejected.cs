namespace SqueezeNext.Contracts;

/// <summary>Answer to <see cref="ClassifyImage"/> when the image or the request cannot be classified, with the reason.</summary>
public sealed record ClassificationRejected(Guid RequestId, string Reason);
