namespace SqueezeNext.Vision.Tests.Data;

[Trait("Level", "unit")]
public sealed class BatchLoaderTests : IDisposable
{
    private readonly TemporaryDirectory temp = new();
    private readonly IImageDataset dataset;
    private readonly ImagePreprocessor preprocessor = new(PreprocessingKind.TfSeed, 32, horizontalFlip: true);

    public BatchLoaderTests()
    {
        dataset = DatasetReader.Open(TestData.ImageFolder(temp.Sub("data"), 4, 10), DatasetSplit.Train);
    }

    public void Dispose() => temp.Dispose();

    private BatchLoader Loader(int threads, long seed = 3, bool shuffle = true) =>
        new(dataset, preprocessor, new LoaderOptions { BatchSize = 8, Threads = threads, Shuffle = shuffle, Augment = shuffle, DropLast = shuffle, Seed = seed });

    private static List<(int[] Indices, float[] Images)> Read(BatchLoader loader, int epoch, int start = 0) =>
        loader.ReadEpoch(epoch, start).Select(batch =>
        {
            using (batch) return (batch.SampleIndices.ToArray(), batch.Images.ToArray());
        }).ToList();

    [Fact]
    public void The_same_seed_and_epoch_give_identical_batches_on_any_thread_count()
    {
        var one = Read(Loader(threads: 1), epoch: 2);
        var four = Read(Loader(threads: 4), epoch: 2);

        Assert.Equal(5, one.Count);
        Assert.Equal(one.Select(b => b.Indices), four.Select(b => b.Indices));
        Assert.Equal(one.Select(b => b.Images), four.Select(b => b.Images));
    }

    [Fact]
    public void Each_epoch_shuffles_differently_and_visits_every_sample_once()
    {
        var loader = Loader(threads: 2);
        var first = Read(loader, 0).SelectMany(b => b.Indices).ToArray();
        var second = Read(loader, 1).SelectMany(b => b.Indices).ToArray();

        Assert.NotEqual(first, second);
        Assert.Equal(Enumerable.Range(0, 40), first.Order());
        Assert.Equal(Enumerable.Range(0, 40), second.Order());
        Assert.NotEqual(Enumerable.Range(0, 40), first);
    }

    [Fact]
    public void Reading_from_a_batch_in_the_middle_continues_exactly_as_a_full_read()
    {
        var loader = Loader(threads: 2);
        var full = Read(loader, 4);
        var resumed = Read(loader, 4, start: 3);

        Assert.Equal(full.Skip(3).Select(b => b.Indices), resumed.Select(b => b.Indices));
        Assert.Equal(full.Skip(3).Select(b => b.Images), resumed.Select(b => b.Images));
    }

    [Fact]
    public void Evaluation_reads_in_dataset_order_without_augmentation_and_keeps_the_last_partial_batch()
    {
        var loader = new BatchLoader(dataset, preprocessor, new LoaderOptions { BatchSize = 16, Threads = 2 });
        var batches = Read(loader, 0);

        Assert.Equal([16, 16, 8], batches.Select(b => b.Indices.Length));
        Assert.Equal(Enumerable.Range(0, 40), batches.SelectMany(b => b.Indices));
        Assert.Equal(batches.Select(b => b.Images), Read(loader, 7).Select(b => b.Images));
    }

    [Fact]
    public void A_corrupt_image_is_skipped_and_reported_while_the_rest_of_its_batch_arrives()
    {
        var root = TestData.ImageFolder(temp.Sub("corrupt"), 2, 4);
        File.WriteAllBytes(Path.Combine(root, "class1", "img001.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var withCorrupt = DatasetReader.Open(root, DatasetSplit.Train);
        var loader = new BatchLoader(withCorrupt, preprocessor, new LoaderOptions { BatchSize = 8, Threads = 2 });

        using var batch = loader.ReadEpoch(0).Single();

        Assert.Equal(7, batch.Count);
        var failure = Assert.Single(batch.Failures);
        Assert.EndsWith(Path.Combine("class1", "img001.png"), failure.Name);
        Assert.DoesNotContain(failure.SampleIndex, batch.SampleIndices);
    }

    [Fact]
    public void Stopping_early_leaves_no_loader_thread_behind()
    {
        // One batch in flight at most: after the first of five, the thread that made it is still in the read.
        var loader = new BatchLoader(dataset, preprocessor, new LoaderOptions { BatchSize = 8, Threads = 3, Prefetch = 1 });
        for (int i = 0; i < 5; i++)
        {
            using var reading = loader.ReadEpoch(i).GetEnumerator();
            Assert.True(reading.MoveNext());
            using var first = reading.Current;
            Assert.InRange(loader.RunningThreads, 1, 3);
        }
        Assert.Equal(0, loader.RunningThreads);
    }

    [Fact]
    public void Cancellation_stops_a_read()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Loader(threads: 2).ReadEpoch(0, 0, cancellation.Token).ToList());
    }
}
