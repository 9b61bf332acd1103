namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// A dataset by name. A <see cref="DatasetKinds.Versioned"/> dataset is what users upload: immutable versions in
/// <c>dataset_versions</c>. A <see cref="DatasetKinds.Folder"/> dataset is a folder an operator placed under a
/// worker's data root, unversioned, described as the workers last saw it.
/// </summary>
public sealed class Dataset
{
    /// <summary>What commands name: a folder name under the data root, or a versioned dataset's name.</summary>
    public string Name { get; set; } = "";

    /// <summary><see cref="DatasetKinds.Versioned"/> or <see cref="DatasetKinds.Folder"/>.</summary>
    public string Kind { get; set; } = DatasetKinds.Folder;

    /// <summary>For a folder: its layout ("idx", "imagenet", "split-folders", "class-folders", or "invalid").</summary>
    public string? Layout { get; set; }
    public int Classes { get; set; }
    public int TrainImages { get; set; }
    public int? ValidationImages { get; set; }
    public string? Error { get; set; }

    /// <summary>For a folder: when a worker last found it (folders no worker has seen for a while are dropped).</summary>
    public DateTimeOffset SeenAt { get; set; }

    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public static class DatasetKinds
{
    public const string Versioned = "versioned";
    public const string Folder = "folder";
}
