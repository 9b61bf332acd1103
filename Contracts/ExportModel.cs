namespace SqueezeNext.Contracts;

/// <summary>
/// Request: a registered model version as one file, for download. Answered with <see cref="ModelExported"/>, whose file
/// is in the shared message data store, or with <see cref="CommandRejected"/>.
/// </summary>
/// <param name="RequestId">Correlation id chosen by the caller.</param>
/// <param name="Format">"safetensors" (with configuration and classes), "onnx" (BatchNorm folded, checked in ONNX Runtime) or "pytorch" (a state dict).</param>
public sealed record ExportModel(Guid RequestId, string ModelName, int Version, string Format);

/// <summary>Answer to <see cref="ExportModel"/>: the file, by reference in the shared message data store.</summary>
/// <param name="FileName">A name for the file ("fashion-v2.onnx").</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file.</param>
public sealed record ModelExported(Guid RequestId, string ModelName, int Version, string Format, string FileName, long Bytes, string Sha256,
    MassTransit.MessageData<byte[]> File);
