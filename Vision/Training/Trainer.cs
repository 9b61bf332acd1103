using SqueezeNext.Vision.Artifacts;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// Trains one SqueezeNext run: SGD with momentum under the polynomial-warmup schedule, periodic evaluation and
/// checkpoints, resume from the newest checkpoint with the same optimiser state and data order. Call
/// <see cref="Run"/> on one dedicated thread: TorchSharp's dispose scopes belong to the thread that opens them.
/// </summary>
public sealed class Trainer(TrainingOptions options, ITrainingObserver? observer = null)
{
    public const string ModelFolder = "model";
    public const string BestModelFolder = "best";

    /// <summary>Below this many steps the running BatchNorm averages (momentum 0.001) have not caught up with the weights.</summary>
    public const long ShortRunSteps = 5_000;

    private readonly ITrainingObserver observer = observer ?? NullTrainingObserver.Instance;

    public TrainingOptions Options { get; } = options;

    public TrainingResult Run(CancellationToken cancellationToken = default)
    {
        var problems = Options.Validate();
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);
        if (Options.TorchThreads is { } threads) set_num_threads(threads);
        var device = DeviceSelector.Resolve(Options.Device);
        var configuration = Options.Plan.Configuration;
        var recipe = configuration.Training;

        var classOrder = Options.Plan.ClassOrder;
        var preprocessor = ImagePreprocessor.For(configuration);
        var trainSet = DatasetReader.Open(Options.TrainData, DatasetSplit.Train, classOrder);
        var trainLoader = new BatchLoader(trainSet, preprocessor, new LoaderOptions
        {
            BatchSize = recipe.BatchSize, Threads = Options.LoaderThreads, Shuffle = true, Augment = true,
            DropLast = true, Seed = Options.Plan.Settings.Seed,
        });
        var validationLoader = OpenValidation(classOrder, preprocessor);
        long totalSteps = Options.Plan.TotalSteps(trainLoader.BatchesPerEpoch);
        Directory.CreateDirectory(Options.OutputDirectory);

        using var network = new SqueezeNextNetwork(configuration.Architecture, recipe.Init, Options.Plan.Settings.Seed);
        network.to(device);
        using var optimizer = new SgdMomentum(network.named_parameters(), recipe.Momentum, recipe.WeightDecay);
        var checkpoints = new CheckpointStore(Options.OutputDirectory, Options.KeepCheckpoints, Options.Attempt, EnsureMayWriteOutput);
        var state = new TrainingState { TotalSteps = totalSteps, StepsPerEpoch = trainLoader.BatchesPerEpoch, Seed = Options.Plan.Settings.Seed };
        if ((Options.ResumeFrom ?? (Options.Resume ? checkpoints.Latest() : null)) is { } latest)
        {
            // The run may be resumed with another length (--steps, --epochs): the schedule follows the new one.
            (state, var changes) = Restore(latest, network, optimizer, trainLoader.BatchesPerEpoch);
            state = state with { TotalSteps = totalSteps };
            Emit(TrainingEventKind.Resumed, $"resumed from {latest} at step {state.Step} (epoch {state.Epoch + 1}, batch {state.BatchInEpoch}) on {trainSet.Description}" +
                (changes.Count > 0 ? $"; changed since that checkpoint: {string.Join(", ", changes)}" : ""));
        }
        else
        {
            Emit(TrainingEventKind.Started, $"training {configuration.Name} on {trainSet.Description}; {totalSteps:N0} steps of {recipe.BatchSize} " +
                            $"({trainLoader.BatchesPerEpoch:N0} per epoch) on {device}");
        }
        if (recipe.PreciseBatchNormBatches == 0 && totalSteps < ShortRunSteps)
            Emit(TrainingEventKind.ShortRun, $"only {totalSteps:N0} steps: BatchNorm's running averages (decay 0.999) will lag the weights, so evaluation " +
                              "may be poor; set training.preciseBatchNormBatches (sqnxt train --precise-bn 50)", "warning");

        var session = new TrainingSession(this, network, optimizer, trainLoader, validationLoader, checkpoints, device, state, cancellationToken);
        return session.Run();
    }

    internal ITrainingObserver Observer => observer;

    internal void Emit(TrainingEventKind kind, string message, string level = "info") =>
        observer.OnEvent(new TrainingEvent(kind, message, DateTimeOffset.UtcNow, level));

    internal string SaveModel(string folder, SqueezeNextNetwork network, string origin)
    {
        EnsureMayWriteOutput();
        var directory = Path.Combine(Options.OutputDirectory, folder);
        ModelArtifact.Save(directory, network, Options.Plan.Configuration, Options.Plan.ModelClasses, origin);
        return directory;
    }

    private void EnsureMayWriteOutput()
    {
        if (!observer.MayWriteOutput)
            throw new OutputFencedException($"the output of this run in {Options.OutputDirectory} may belong to another process now; stopped without writing");
    }

    private BatchLoader? OpenValidation(IReadOnlyList<string> classOrder, ImagePreprocessor preprocessor)
    {
        IImageDataset validationSet;
        try
        {
            validationSet = DatasetReader.Open(Options.ValidationData ?? Options.TrainData, DatasetSplit.Validation, classOrder);
        }
        catch (DatasetException e) when (Options.ValidationData is null)
        {
            Emit(TrainingEventKind.NoValidation, $"no validation split, so no evaluation during training ({e.Message})", "warning");
            return null;
        }
        return new BatchLoader(validationSet, preprocessor, new LoaderOptions
        {
            BatchSize = Math.Min(Options.Plan.Configuration.Training.BatchSize, 256), Threads = Options.LoaderThreads,
        });
    }

    /// <summary>Loads a checkpoint into the network and optimiser; also names what this run's plan changes from the checkpoint's.</summary>
    private (TrainingState State, IReadOnlyList<string> PlanChanges) Restore(string directory, SqueezeNextNetwork network, SgdMomentum optimizer, int stepsPerEpoch)
    {
        using var checkpoint = CheckpointStore.Load(directory, Options.Plan.Configuration);
        if (checkpoint.State.StepsPerEpoch != stepsPerEpoch || checkpoint.State.Seed != Options.Plan.Settings.Seed)
            throw new ArtifactException(
                $"checkpoint {directory} was made with {checkpoint.State.StepsPerEpoch} steps per epoch and seed {checkpoint.State.Seed}; " +
                $"this run has {stepsPerEpoch} and {Options.Plan.Settings.Seed}, so the data order would not continue where it stopped");
        using (no_grad())
        {
            var source = checkpoint.Model.Network.state_dict();
            foreach (var (name, target) in network.state_dict()) target.copy_(source[name]);
        }
        optimizer.LoadState(checkpoint.OptimizerState, directory);
        return (checkpoint.State, checkpoint.Plan?.ChangesFrom(Options.Plan) ?? []);
    }
}

/// <summary>The loss became NaN or infinite; the run cannot continue.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
