namespace SqueezeNext.Vision.Data;

/// <summary>
/// Opens a dataset directory in any supported layout:
/// <list type="bullet">
/// <item>Fashion-MNIST IDX files (<c>train-images-idx3-ubyte[.gz]</c> ...), splits train and t10k;</item>
/// <item>split folders <c>train/</c> and <c>val/</c> (or <c>validation/</c>), each with one sub-folder per class, or a
/// flat ImageNet <c>val/</c> labelled by <c>val_ground_truth_synsets.txt</c> in the dataset root or the embedded
/// ILSVRC-2012 list;</item>
/// <item>a folder with one sub-folder per class, which serves as both splits.</item>
/// </list>
/// </summary>
public static class DatasetReader
{
    public const string GroundTruthFileName = "val_ground_truth_synsets.txt";

    private static readonly string[] ValidationFolderNames = ["val", "validation"];

    public static IImageDataset Open(string root, DatasetSplit split, IReadOnlyList<string>? classOrder = null, ImageDecoder? decoder = null)
    {
        if (!Directory.Exists(root))
            throw new DatasetException($"dataset folder '{root}' does not exist");
        if (FashionMnistDataset.IsFashionMnistFolder(root))
            return new FashionMnistDataset(root, split);

        var train = Path.Combine(root, "train");
        var validation = ValidationFolderNames.Select(name => Path.Combine(root, name)).FirstOrDefault(Directory.Exists);
        bool hasSplits = Directory.Exists(train) || validation is not null;
        if (!hasSplits)
            return new ImageFolderDataset(root, classOrder, decoder);

        if (split == DatasetSplit.Train)
        {
            if (!Directory.Exists(train))
                throw new DatasetException($"'{root}' has no train/ folder (expected train/<class>/ images)");
            return new ImageFolderDataset(train, classOrder, decoder);
        }

        if (validation is null)
            throw new DatasetException($"'{root}' has no val/ folder (expected val/<class>/ images, or a flat ImageNet val/ with the ground-truth list)");
        // Validation labels must follow the training classes even where val/ lacks some of them.
        var order = classOrder ?? (Directory.Exists(train) ? ClassFolders(train) : null);
        if (Directory.EnumerateDirectories(validation).Any(d => !Path.GetFileName(d).StartsWith('.')))
            return new ImageFolderDataset(validation, order, decoder);

        var groundTruthPath = Path.Combine(root, GroundTruthFileName);
        var groundTruth = File.Exists(groundTruthPath)
            ? File.ReadAllLines(groundTruthPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray()
            : ImageNetClasses.ValidationGroundTruth;
        return new ImageNetValidationDataset(validation, groundTruth, order, decoder);
    }

    /// <summary>
    /// What a dataset folder holds, without decoding images: its layout, classes and image counts per split
    /// (null where a split is absent).
    /// </summary>
    public static DatasetDescription Describe(string root)
    {
        if (FashionMnistDataset.IsFashionMnistFolder(root))
        {
            int? test = null;
            try
            {
                test = FashionMnistDataset.CountRecords(root, DatasetSplit.Validation);
            }
            catch (DatasetException)
            {
            }
            return new DatasetDescription("idx", FashionMnistDataset.FashionClasses.Length, FashionMnistDataset.CountRecords(root, DatasetSplit.Train), test);
        }
        var classes = DiscoverClasses(root);
        var train = Path.Combine(root, "train");
        var validation = ValidationFolderNames.Select(name => Path.Combine(root, name)).FirstOrDefault(Directory.Exists);
        if (!Directory.Exists(train) && validation is null)
            return new DatasetDescription("class-folders", classes.Count, CountImages(root), null);
        return new DatasetDescription(classes.All(ImageNetClasses.IsSynset) ? "imagenet" : "split-folders", classes.Count,
            Directory.Exists(train) ? CountImages(train) : null, validation is null ? null : CountImages(validation));
    }

    private static int CountImages(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count(ImageFolderDataset.IsImageFile);

    /// <summary>
    /// The dataset's class names in label order without reading any image: Fashion-MNIST's ten, or the sorted class
    /// folders of <c>train/</c> (or of the root when it has no split folders).
    /// </summary>
    public static IReadOnlyList<string> DiscoverClasses(string root)
    {
        if (!Directory.Exists(root))
            throw new DatasetException($"dataset folder '{root}' does not exist");
        if (FashionMnistDataset.IsFashionMnistFolder(root))
            return FashionMnistDataset.FashionClasses;
        var train = Path.Combine(root, "train");
        if (Directory.Exists(train)) return ClassFolders(train);
        if (ValidationFolderNames.Any(name => Directory.Exists(Path.Combine(root, name))))
            return ImageNetClasses.Synsets;
        var classes = ClassFolders(root);
        if (classes.Count == 0)
            throw new DatasetException($"'{root}' is not a dataset: no Fashion-MNIST files, no train/ or val/ folder, no class sub-folders");
        return classes;
    }

    private static List<string> ClassFolders(string folder) =>
        Directory.GetDirectories(folder)
            .Select(d => Path.GetFileName(d)!)
            .Where(name => !name.StartsWith('.'))
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToList();
}

/// <summary>A dataset folder's layout ("idx", "imagenet", "split-folders", "class-folders"), classes and image counts.</summary>
public sealed record DatasetDescription(string Kind, int Classes, int? TrainImages, int? ValidationImages);
