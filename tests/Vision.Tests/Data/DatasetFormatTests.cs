namespace SqueezeNext.Vision.Tests.Data;

[Trait("Level", "unit")]
public sealed class DatasetFormatTests : IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void A_class_folder_dataset_numbers_classes_in_sorted_order()
    {
        var root = TestData.ImageFolder(temp.Sub("folders"), 3, 2, names: ["zebra", "apple", "mango"]);

        var dataset = DatasetReader.Open(root, DatasetSplit.Train);

        Assert.Equal(["apple", "mango", "zebra"], dataset.Classes);
        Assert.Equal(6, dataset.Count);
        Assert.Equal(0, dataset.LabelOf(0));
        Assert.Equal(2, dataset.LabelOf(5));
        using var image = dataset.Load(3);
        Assert.Equal(40, image.Width);
        Assert.Equal(["apple", "mango", "zebra"], DatasetReader.DiscoverClasses(root));
    }

    [Fact]
    public void ImageNet_train_folders_and_a_flat_val_use_the_ground_truth_list()
    {
        var root = temp.Sub("imagenet");
        TestData.ImageFolder(Path.Combine(root, "train"), 2, 2, names: ["n01440764", "n01443537"]);
        var val = Directory.CreateDirectory(Path.Combine(root, "val")).FullName;
        // Images 1 and 2 of the real ILSVRC-2012 validation set are n01751748 and n09193705: not among this
        // training set's classes, so this dataset brings its own ground truth.
        File.WriteAllLines(Path.Combine(root, DatasetReader.GroundTruthFileName), ["n01443537", "n01440764", "n01443537"]);
        foreach (var k in new[] { 1, 2, 3 })
            File.Copy(Directory.GetFiles(Path.Combine(root, "train", "n01440764"))[0], Path.Combine(val, $"ILSVRC2012_val_{k:D8}.JPEG"));

        var train = DatasetReader.Open(root, DatasetSplit.Train);
        var validation = DatasetReader.Open(root, DatasetSplit.Validation);

        Assert.Equal(["n01440764", "n01443537"], train.Classes);
        Assert.Equal(3, validation.Count);
        Assert.Equal([1, 0, 1], Enumerable.Range(0, 3).Select(validation.LabelOf));
    }

    [Fact]
    public void A_flat_val_without_its_own_list_uses_the_embedded_ILSVRC_2012_ground_truth()
    {
        var root = temp.Sub("imagenet-embedded");
        var val = Directory.CreateDirectory(Path.Combine(root, "val")).FullName;
        TestData.ImageFolder(temp.Sub("source"), 1, 1);
        File.Copy(Directory.GetFiles(temp.Sub("source/class0"))[0], Path.Combine(val, "ILSVRC2012_val_00000001.JPEG"));

        var validation = DatasetReader.Open(root, DatasetSplit.Validation);

        Assert.Equal(ImageNetClasses.IndexOf(ImageNetClasses.ValidationGroundTruth[0]), validation.LabelOf(0));
        Assert.Equal(50_000, ImageNetClasses.ValidationGroundTruth.Count);
    }

    [Fact]
    public void Validation_in_synset_folders_follows_the_training_class_order_even_with_classes_missing()
    {
        var root = temp.Sub("split");
        TestData.ImageFolder(Path.Combine(root, "train"), 3, 1, names: ["a", "b", "c"]);
        TestData.ImageFolder(Path.Combine(root, "val"), 1, 2, names: ["c"]);

        var validation = DatasetReader.Open(root, DatasetSplit.Validation);

        Assert.Equal(["a", "b", "c"], validation.Classes);
        Assert.Equal(2, validation.LabelOf(0));
    }

    [Fact]
    public void Fashion_mnist_idx_files_read_gzipped_or_not_with_gray_copied_to_three_channels()
    {
        var pixels = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 784).Select(p => (byte)((p + i * 50) % 256)).ToArray()).ToArray();
        TestData.WriteIdx(temp.Sub("gz"), "train", pixels, [3, 0, 9]);
        TestData.WriteIdx(temp.Sub("raw"), "t10k", pixels[..2], [1, 2], gzip: false);
        File.WriteAllText(Path.Combine(temp.Sub("raw"), "train-images-idx3-ubyte"), "placeholder so the folder is recognised");

        var train = DatasetReader.Open(temp.Sub("gz"), DatasetSplit.Train);
        var test = new FashionMnistDataset(temp.Sub("raw"), DatasetSplit.Validation);

        Assert.Equal(3, train.Count);
        Assert.Equal(10, train.Classes.Count);
        Assert.Equal("Ankle boot", train.Classes[train.LabelOf(2)]);
        using var image = train.Load(1);
        Assert.Equal(28, image.Width);
        var pixel = image[5, 2];
        byte expected = pixels[1][2 * 28 + 5];
        Assert.Equal(expected, pixel.R);
        Assert.Equal(expected, pixel.G);
        Assert.Equal(expected, pixel.B);
        Assert.Equal(2, test.Count);
        Assert.Equal(2, test.LabelOf(1));
    }

    [SkippableFact]
    public void The_installed_fashion_mnist_has_60000_and_10000_images()
    {
        Skip.IfNot(TestData.FashionMnistInstalled, "dataset-fashion-mnist is not installed");
        Assert.Equal(60_000, DatasetReader.Open(TestData.FashionMnistFolder, DatasetSplit.Train).Count);
        Assert.Equal(10_000, DatasetReader.Open(TestData.FashionMnistFolder, DatasetSplit.Validation).Count);
    }

    [Fact]
    public void Malformed_fashion_mnist_files_are_named_with_what_is_wrong()
    {
        var pixels = new[] { new byte[784], new byte[784] };

        TestData.WriteIdx(temp.Sub("count"), "train", pixels, [1]);
        Assert.Contains("holds 2 images but", Assert.Throws<DatasetException>(() => new FashionMnistDataset(temp.Sub("count"), DatasetSplit.Train)).Message);

        TestData.WriteIdx(temp.Sub("label"), "train", pixels, [1, 12]);
        Assert.Contains("has label 12 at record 1", Assert.Throws<DatasetException>(() => new FashionMnistDataset(temp.Sub("label"), DatasetSplit.Train)).Message);

        TestData.WriteIdx(temp.Sub("magic"), "train", pixels, [1, 2], gzip: false);
        var labels = Path.Combine(temp.Sub("magic"), "train-labels-idx1-ubyte");
        var images = Path.Combine(temp.Sub("magic"), "train-images-idx3-ubyte");
        File.Copy(labels, images, overwrite: true);
        Assert.Contains("magic 0x00000801, expected 0x00000803", Assert.Throws<DatasetException>(() => new FashionMnistDataset(temp.Sub("magic"), DatasetSplit.Train)).Message);

        TestData.WriteIdx(temp.Sub("short"), "train", pixels, [1, 2], gzip: false);
        var shortImages = Path.Combine(temp.Sub("short"), "train-images-idx3-ubyte");
        File.WriteAllBytes(shortImages, File.ReadAllBytes(shortImages)[..900]);
        Assert.Contains("is truncated", Assert.Throws<DatasetException>(() => new FashionMnistDataset(temp.Sub("short"), DatasetSplit.Train)).Message);

        Directory.CreateDirectory(temp.Sub("gzip"));
        File.WriteAllText(Path.Combine(temp.Sub("gzip"), "train-images-idx3-ubyte.gz"), "not gzip");
        File.WriteAllText(Path.Combine(temp.Sub("gzip"), "train-labels-idx1-ubyte.gz"), "not gzip");
        Assert.Contains("train-images-idx3-ubyte.gz", Assert.Throws<DatasetException>(() => new FashionMnistDataset(temp.Sub("gzip"), DatasetSplit.Train)).Message);

        TestData.WriteIdx(temp.Sub("nolabels"), "train", pixels, [1, 2]);
        File.Delete(Path.Combine(temp.Sub("nolabels"), "train-labels-idx1-ubyte.gz"));
        Assert.Contains("has no train-labels-idx1-ubyte", Assert.Throws<DatasetException>(() => new FashionMnistDataset(temp.Sub("nolabels"), DatasetSplit.Train)).Message);
    }

    [Fact]
    public void Malformed_folder_datasets_are_named_with_what_was_expected()
    {
        Assert.Contains("does not exist", Assert.Throws<DatasetException>(() => DatasetReader.Open(temp.Sub("missing"), DatasetSplit.Train)).Message);

        Directory.CreateDirectory(temp.Sub("empty"));
        Assert.Contains("has no class sub-folders", Assert.Throws<DatasetException>(() => DatasetReader.Open(temp.Sub("empty"), DatasetSplit.Train)).Message);

        Directory.CreateDirectory(temp.Sub("noimages/cat"));
        File.WriteAllText(temp.Sub("noimages/cat/readme.txt"), "text");
        Assert.Contains("no images", Assert.Throws<DatasetException>(() => DatasetReader.Open(temp.Sub("noimages"), DatasetSplit.Train)).Message);

        TestData.ImageFolder(temp.Sub("trainonly/train"), 2, 1);
        Assert.Contains("has no val/ folder", Assert.Throws<DatasetException>(() => DatasetReader.Open(temp.Sub("trainonly"), DatasetSplit.Validation)).Message);

        Directory.CreateDirectory(temp.Sub("badval/val"));
        File.WriteAllText(temp.Sub("badval/val/holiday.jpg"), "x");
        Assert.Contains("is not named like an ILSVRC-2012 validation image", Assert.Throws<DatasetException>(() => DatasetReader.Open(temp.Sub("badval"), DatasetSplit.Validation)).Message);

        TestData.ImageFolder(temp.Sub("unknown"), 2, 1, names: ["n01440764", "holiday"]);
        Assert.Contains("class folders the model does not know: holiday",
            Assert.Throws<DatasetException>(() => DatasetReader.Open(temp.Sub("unknown"), DatasetSplit.Train, ImageNetClasses.Synsets)).Message);
    }

    [Fact]
    public void A_1000_output_network_on_synset_folders_uses_ImageNet_indices_and_other_data_gets_its_own_head()
    {
        var synsets = TestData.ImageFolder(temp.Sub("synsets"), 2, 1, names: ["n02123045", "n07920052"]);
        var mine = TestData.ImageFolder(temp.Sub("mine"), 3, 1);
        var configuration = Vision.Configuration.ConfigurationCatalog.Get("v_1_0_SqNxt_23");

        var imageNet = LabelSpace.For(configuration, synsets);
        var own = LabelSpace.For(configuration, mine);

        Assert.Null(imageNet.ModelClasses);
        Assert.Equal(1000, imageNet.Configuration.Architecture.NumClasses);
        Assert.Equal(281, DatasetReader.Open(synsets, DatasetSplit.Train, imageNet.ClassOrder).LabelOf(0));
        Assert.Equal(3, own.Configuration.Architecture.NumClasses);
        Assert.Equal(["class0", "class1", "class2"], own.ModelClasses);
        Assert.Contains("3 outputs instead of the configuration's 1000", own.Note);
    }
}
