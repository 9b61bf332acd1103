namespace SqueezeNext.Contracts;

/// <summary>
/// Command: import an archive (zip, tar, tar.gz: one folder per class, or train/ and val/, or Fashion-MNIST's IDX
/// files) or a folder from the shared data volume as the next version of a versioned dataset. A worker imports it as
/// a run of kind "import", treating it as hostile. Answered with <see cref="DatasetImportQueued"/> or <see cref="CommandRejected"/>.
/// </summary>
/// <param name="RunId">Client-chosen id of the import run (idempotency key).</param>
/// <param name="Dataset">The versioned dataset's name (made by its first import).</param>
/// <param name="Source">"upload" (<paramref name="Path"/> is an upload id), "file" (an archive under incoming/), "folder"
/// (a folder under incoming/) or "imagenet" (a folder under incoming/ with the ILSVRC-2012 archives).</param>
/// <param name="Path">The upload id, or a path relative to the data volume's incoming/ folder.</param>
/// <param name="FileName">The uploaded file's name, for the record.</param>
/// <param name="ValidationFraction">Share of each class split off for validation when the archive has no val/ (0 to 0.9; null: the worker's setting).</param>
/// <param name="Seed">Seed of that split.</param>
/// <param name="RequestedBy">The account the import is recorded for.</param>
public sealed record ImportDataset(
    Guid RunId,
    string Dataset,
    string Source,
    string Path,
    string? FileName = null,
    double? ValidationFraction = null,
    int? Seed = null,
    string? RequestedBy = null);
