namespace SqueezeNext.Contracts;

/// <summary>
/// Request: classify one encoded image (JPEG, PNG, ...). Answered with <see cref="ImageClassified"/> or
/// <see cref="ClassificationRejected"/>: sent back to a caller that waits, published as an event otherwise. A caller
/// that waits sends it non-persistent (docs/messages.md): the broker need not write the image to disk.
/// </summary>
/// <param name="RequestId">Correlation id chosen by the caller; copied into the answer.</param>
/// <param name="Image">The encoded image bytes (empty when <paramref name="ImageData"/> carries them).</param>
/// <param name="Top">How many labels to return (1..1000, default 5).</param>
/// <param name="ModelName">Model to use; null: the worker's default model.</param>
/// <param name="ModelVersion">Version to use; null: the serving version.</param>
/// <param name="ImageData">The image by reference in the shared message data store, for images over the inline limit (docs/messages.md).</param>
public sealed record ClassifyImage(Guid RequestId, byte[] Image, int Top = 5, string? ModelName = null, int? ModelVersion = null,
    MassTransit.MessageData<byte[]>? ImageData = null);
