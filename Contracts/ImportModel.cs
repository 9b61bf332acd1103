namespace SqueezeNext.Contracts;

/// <summary>
/// Command: register weights from outside (a pytorchcv pretrained state dict, a safetensors export) as the next
/// version of a model name. The worker checks every tensor name and shape against the configuration and writes a
/// model artifact; answered with <see cref="ModelRegistered"/> or <see cref="CommandRejected"/> naming the problem.
/// </summary>
/// <param name="CommandId">Client-chosen id (idempotency key).</param>
/// <param name="ModelName">Model name: 1 to 100 letters, digits, '.', '_' or '-'.</param>
/// <param name="FileName">The uploaded file's name, for messages and the version's description.</param>
/// <param name="Format">"pytorch" (a state dict as torch.save writes it) or "safetensors".</param>
/// <param name="Weights">The file's bytes (at most <c>Worker:MaxImportBytes</c>, 100 MB by default); empty when <paramref name="WeightsData"/> carries them.</param>
/// <param name="WeightsData">The file by reference in the shared message data store, for files over the inline limit.</param>
/// <param name="Configuration">A named configuration the weights belong to; required for a state dict (pytorchcv's: sqnxt23_w1 ... sqnxt23v5_w2), optional for a safetensors export that carries its own.</param>
public sealed record ImportModel(
    Guid CommandId,
    string ModelName,
    string FileName,
    string Format,
    byte[] Weights,
    string? Configuration = null,
    string? Description = null,
    MassTransit.MessageData<byte[]>? WeightsData = null);
