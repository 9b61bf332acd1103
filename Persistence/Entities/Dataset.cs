namespace SqueezeNext.Persistence.Entities;

/// <summary>A dataset a worker found under its data root, for the dashboard's pickers.</summary>
public sealed class Dataset
{
    /// <summary>Folder name under the data root: what commands name.</summary>
    public string Name { get; set; } = "";

    public string Kind { get; set; } = "";
    public int Classes { get; set; }
    public int TrainImages { get; set; }
    public int? ValidationImages { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset SeenAt { get; set; }
}
