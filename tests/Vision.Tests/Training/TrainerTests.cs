using SqueezeNext.Vision.Training;

namespace SqueezeNext.Vision.Tests.Training;

[Trait("Level", "unit")]
public sealed class TrainerTests : IDisposable
{
    private readonly TemporaryDirectory temp = new();
    private readonly string data;

    private static readonly SqueezeNextConfiguration Small = ConfigurationFile.Parse("""
        {
          "base": "v_1_0_SqNxt_23_mod",
          "name": "trainer-test",
          "architecture": { "numClasses": 4, "inputSize": 32, "stageWidths": [16, 32, 32, 64], "blocksPerStage": [1, 1, 1, 1] },
          "training": { "batchSize": 8, "epochs": 2, "baseLearningRate": 0.05, "warmupSteps": 2, "warmupStartLearningRate": 0.01 }
        }
        """);

    public TrainerTests()
    {
        data = TestData.ImageFolder(temp.Sub("data"), 4, 10, size: 36);
    }

    public void Dispose() => temp.Dispose();

    /// <summary>Seed 17 unless <paramref name="settings"/> names another.</summary>
    private TrainingOptions Options(string output, long steps = 10, TrainingSettings? settings = null) => new()
    {
        Plan = TrainingPlan.Create(Small, (settings ?? new TrainingSettings()) with { MaxSteps = steps, CheckpointEveryMinutes = 0, Seed = settings?.Seed ?? 17 },
            DatasetReader.DiscoverClasses(data)),
        TrainData = data,
        OutputDirectory = temp.Sub(output),
        LoaderThreads = 2,
        LogEverySteps = 1,
    };

    private sealed class Recorder : ITrainingObserver
    {
        public Action<TrainingProgress>? Progress { get; init; }
        public List<TrainingMetric> Metrics { get; } = [];
        public List<TrainingEvent> Events { get; } = [];
        public List<SavedCheckpoint> Checkpoints { get; } = [];
        public List<long> LiveTensors { get; } = [];

        public void OnProgress(TrainingProgress progress)
        {
            LiveTensors.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            Progress?.Invoke(progress);
        }

        public void OnMetrics(IReadOnlyList<TrainingMetric> points) => Metrics.AddRange(points);
        public void OnEvent(TrainingEvent trainingEvent) => Events.Add(trainingEvent);
        public void OnCheckpoint(SavedCheckpoint checkpoint) => Checkpoints.Add(checkpoint);
    }

    [Fact]
    public void Training_straight_and_training_with_a_stop_and_resume_give_the_same_weights()
    {
        var straight = new Trainer(Options("straight")).Run();

        using var cancellation = new CancellationTokenSource();
        var stopAtFive = new Recorder { Progress = p => { if (p.Step == 5) cancellation.Cancel(); } };
        var first = new Trainer(Options("resumed"), stopAtFive).Run(cancellation.Token);
        var resumed = new Recorder();
        var second = new Trainer(Options("resumed") with { Resume = true }, resumed).Run();

        Assert.Equal(TrainingOutcome.Completed, straight.Outcome);
        Assert.Equal(TrainingOutcome.Cancelled, first.Outcome);
        Assert.Equal(5, first.Step);
        Assert.Equal(TrainingOutcome.Completed, second.Outcome);
        Assert.Equal(10, second.Step);
        var resumedEvent = Assert.Single(resumed.Events, e => e.Kind == TrainingEventKind.Resumed);
        Assert.DoesNotContain("changed since", resumedEvent.Message);

        using var a = ModelArtifact.Load(straight.ModelDirectory!);
        using var b = ModelArtifact.Load(second.ModelDirectory!);
        var expected = a.Network.state_dict();
        foreach (var (name, actual) in b.Network.state_dict())
            Assert.True(actual.allclose(expected[name], rtol: 1e-4, atol: 1e-6), $"{name} differs after resume");
    }

    [Fact]
    public void Cancellation_stops_within_one_batch_and_leaves_a_resumable_checkpoint()
    {
        using var cancellation = new CancellationTokenSource();
        var recorder = new Recorder { Progress = p => { if (p.Step == 3) cancellation.Cancel(); } };

        var result = new Trainer(Options("cancel", steps: 40), recorder).Run(cancellation.Token);

        Assert.Equal(TrainingOutcome.Cancelled, result.Outcome);
        Assert.Equal(3, result.Step);
        Assert.Null(result.ModelDirectory);
        using var checkpoint = CheckpointStore.Load(result.LastCheckpoint!);
        Assert.Equal(3, checkpoint.State.Step);
        Assert.Equal(0, checkpoint.State.Epoch);
        Assert.Equal(3, checkpoint.State.BatchInEpoch);
        Assert.Contains(recorder.Events, e => e.Kind == TrainingEventKind.Cancelled);
    }

    [Fact]
    public void Checkpoints_keep_the_newest_ones_are_complete_models_and_record_their_position()
    {
        var recorder = new Recorder();
        var options = Options("checkpoints", steps: 10, new TrainingSettings { CheckpointEverySteps = 2 }) with { KeepCheckpoints = 2 };

        var result = new Trainer(options, recorder).Run();

        var store = new CheckpointStore(options.OutputDirectory, 2);
        Assert.Equal([8L, 10L], store.List().Select(c => c.Step));
        Assert.Equal([2L, 4L, 6L, 8L, 10L], recorder.Checkpoints.Select(c => c.Step));
        Assert.Empty(Directory.GetDirectories(store.Directory, ".*"));
        using var checkpoint = CheckpointStore.Load(store.Latest()!);
        Assert.Equal(10, checkpoint.State.Step);
        Assert.Equal(2, checkpoint.State.Epoch);
        Assert.Equal(0, checkpoint.State.BatchInEpoch);
        Assert.Equal(5, checkpoint.State.StepsPerEpoch);
        Assert.Equal(17, checkpoint.State.Seed);
        Assert.Equal(options.Plan.ToJson(), checkpoint.Plan!.ToJson());
        Assert.NotNull(checkpoint.State.BestTop1);
        Assert.True(checkpoint.OptimizerState.Count > 0);
        Assert.True(Directory.Exists(result.BestModelDirectory));
    }

    [Fact]
    public void Metrics_events_and_a_flat_live_tensor_count_come_out_of_a_run()
    {
        var recorder = new Recorder();

        var result = new Trainer(Options("metrics", steps: 30), recorder).Run();

        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.Equal(30, recorder.Metrics.Count(m => m.Name == "train_loss"));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), recorder.Metrics.Where(m => m.Name == "lr").Select(m => m.Step));
        Assert.Equal(0.01, recorder.Metrics.First(m => m.Name == "lr").Value, 9);
        Assert.Contains(recorder.Metrics, m => m.Name == "val_top1");
        Assert.Contains(recorder.Events, e => e.Kind == TrainingEventKind.Started);
        Assert.Contains(recorder.Events, e => e.Kind == TrainingEventKind.Evaluated);
        Assert.Contains(recorder.Events, e => e.Kind == TrainingEventKind.Completed);
        // Steps 5 and 30 are both past the first epoch's evaluation; nothing accumulates across steps.
        Assert.Equal(recorder.LiveTensors[10], recorder.LiveTensors[^1]);
    }

    [Fact]
    public void Training_learns_the_toy_classes()
    {
        var options = Options("learn", steps: 100, new TrainingSettings { PreciseBatchNormBatches = 5 });

        var result = new Trainer(options).Run();

        Assert.NotNull(result.LastEvaluation);
        // Chance is 25 %. Over seeds 17 to 21, 100 steps reached 75 to 100 % in either memory layout: small-batch
        // training is chaotic, so a bar near 100 % would test the seed rather than the learning.
        Assert.True(result.LastEvaluation!.Top1 >= 0.7, $"top-1 {result.LastEvaluation.Top1:P1} after 100 steps");
    }

    [Fact]
    public void A_resume_with_another_seed_or_batch_size_is_refused()
    {
        using var cancellation = new CancellationTokenSource();
        var stop = new Recorder { Progress = p => { if (p.Step == 2) cancellation.Cancel(); } };
        new Trainer(Options("refuse"), stop).Run(cancellation.Token);

        var error = Assert.Throws<ArtifactException>(() => new Trainer(Options("refuse", settings: new TrainingSettings { Seed = 99 }) with { Resume = true }).Run());

        Assert.Contains("data order would not continue", error.Message);
    }

    [Fact]
    public void A_resume_names_the_settings_changed_since_the_checkpoint()
    {
        using var cancellation = new CancellationTokenSource();
        var stop = new Recorder { Progress = p => { if (p.Step == 2) cancellation.Cancel(); } };
        new Trainer(Options("changed"), stop).Run(cancellation.Token);

        var resumed = new Recorder();
        new Trainer(Options("changed", steps: 4, new TrainingSettings { LearningRate = 0.02 }) with { Resume = true }, resumed).Run();

        var resumedEvent = Assert.Single(resumed.Events, e => e.Kind == TrainingEventKind.Resumed);
        Assert.EndsWith("changed since that checkpoint: maxSteps, learningRate", resumedEvent.Message);
    }
}
