using SqueezeNext.Vision.Inference;

namespace SqueezeNext.Vision.Tests.Inference;

/// <summary>
/// The worker runs two classify forward passes at once on one model (Worker:Classification:ConcurrentPasses), each on
/// its own thread with one thread of the engine: the answers must be those of the same images classified one call at a
/// time, on either engine.
/// </summary>
[Trait("Level", "unit")]
public class ConcurrentClassificationTests
{
    [Theory]
    [InlineData(InferenceEngine.Torch)]
    [InlineData(InferenceEngine.OnnxRuntime)]
    public void Classifying_on_several_threads_at_once_gives_the_answers_of_one_call_at_a_time(InferenceEngine engine)
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23") with { Architecture = TestData.SmallArchitecture(64) };
        var manifest = new ModelManifest { Configuration = configuration, Origin = "test: random weights" };
        using var classifier = new ImageClassifier(new LoadedModel(new SqueezeNextNetwork(configuration.Architecture, seed: 7), manifest), CPU, engine, threads: 1);
        int values = classifier.Preprocessor.ValuesPerImage;
        var random = new Random(3);
        // Batches of different sizes, so that passes running together allocate and free different blocks.
        var batches = new[] { 1, 3, 5, 2 }.Select(count =>
            Enumerable.Range(0, count * values).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray()).ToArray();

        var expected = OnOneThread(() => batches.Select(batch => classifier.ClassifyPreprocessed(batch, batch.Length / values, 3)).ToArray());

        const int threads = 4, rounds = 5;
        var answers = new IReadOnlyList<IReadOnlyList<Prediction>>[threads, rounds];
        var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            set_num_threads(1);
            start.SignalAndWait();
            for (int round = 0; round < rounds; round++)
            {
                var batch = batches[(t + round) % batches.Length];
                answers[t, round] = classifier.ClassifyPreprocessed(batch, batch.Length / values, 3);
            }
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();

        for (int t = 0; t < threads; t++)
        for (int round = 0; round < rounds; round++)
        {
            var want = expected[(t + round) % batches.Length];
            var got = answers[t, round];
            Assert.Equal(want.Count, got.Count);
            for (int image = 0; image < want.Count; image++)
            {
                Assert.Equal(want[image].Select(p => p.Index), got[image].Select(p => p.Index));
                foreach (var (a, b) in want[image].Zip(got[image]))
                    Assert.True(Math.Abs(a.Probability - b.Probability) < 1e-5, $"thread {t}, round {round}, image {image}: {a.Probability} against {b.Probability}");
            }
        }
    }

    private static T OnOneThread<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() =>
        {
            set_num_threads(1);
            result = work();
        });
        thread.Start();
        thread.Join();
        return result;
    }
}
