using System.Diagnostics;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Model;
using TorchSharp;
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
        if (problems.Count > 0) throw new Model.InvalidConfigurationException(problems);
        var configuration = Options.Configuration;
        var recipe = configuration.Training;
        var architecture = configuration.Architecture;
        if (Options.TorchThreads is { } threads) set_num_threads(threads);
        var device = DeviceSelector.Resolve(Options.Device);

        var classOrder = Options.ClassOrder ?? DatasetReader.DiscoverClasses(Options.TrainData);
        var trainSet = DatasetReader.Open(Options.TrainData, DatasetSplit.Train, classOrder);
        var preprocessor = ImagePreprocessor.For(configuration);
        var trainLoader = new BatchLoader(trainSet, preprocessor, new LoaderOptions
        {
            BatchSize = recipe.BatchSize, Threads = Options.LoaderThreads, Shuffle = true, Augment = true,
            DropLast = true, Seed = Options.Seed,
        });
        var validationLoader = OpenValidation(classOrder, preprocessor);
        int stepsPerEpoch = trainLoader.BatchesPerEpoch;
        long totalSteps = Options.MaxSteps ?? (long)recipe.Epochs * stepsPerEpoch;
        var schedule = PolynomialWarmupSchedule.For(recipe, totalSteps);
        var checkpoints = new CheckpointStore(Options.OutputDirectory, Options.KeepCheckpoints);
        Directory.CreateDirectory(Options.OutputDirectory);

        using var network = new SqueezeNextNetwork(architecture, recipe.Init, Options.Seed);
        network.to(device);
        using var optimizer = new SgdMomentum(network.named_parameters(), recipe.Momentum, recipe.WeightDecay);
        var state = new TrainingState { TotalSteps = totalSteps, StepsPerEpoch = stepsPerEpoch, Seed = Options.Seed };

        if (Options.Resume && checkpoints.Latest() is { } latest)
        {
            state = Restore(latest, network, optimizer, device, stepsPerEpoch);
            Emit("resumed", $"resumed from {latest} at step {state.Step} (epoch {state.Epoch + 1}, batch {state.BatchInEpoch})");
        }
        else
        {
            Emit("started", $"training {configuration.Name} on {trainSet.Description}; {totalSteps:N0} steps of {recipe.BatchSize} " +
                            $"({stepsPerEpoch:N0} per epoch) on {device}");
        }
        if (recipe.PreciseBatchNormBatches == 0 && totalSteps < ShortRunSteps)
            Emit("short-run", $"only {totalSteps:N0} steps: BatchNorm's running averages (decay 0.999) will lag the weights, so evaluation " +
                              "may be poor; set training.preciseBatchNormBatches (sqnxt train --precise-bn 50)", "warning");

        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        double ElapsedSeconds() => elapsedBefore + clock.Elapsed.TotalSeconds;
        var lastCheckpointTime = clock.Elapsed;
        long step = state.Step;
        int epoch = state.Epoch;
        int batchInEpoch = state.BatchInEpoch;
        double? bestTop1 = state.BestTop1;
        long? bestStep = state.BestStep;
        EvaluationResult? lastEvaluation = null;
        string? lastCheckpoint = null;
        var intervalClock = Stopwatch.StartNew();
        double intervalLoss = 0, intervalCorrect = 0;
        int intervalImages = 0, intervalSteps = 0;
        double imagesPerSecond = 0;
        bool cancelled = false;

        TrainingState Snapshot() => state with
        {
            Step = step, Epoch = epoch, BatchInEpoch = batchInEpoch, BestTop1 = bestTop1, BestStep = bestStep,
            ElapsedSeconds = ElapsedSeconds(), SavedAt = DateTimeOffset.UtcNow,
        };

        void SaveCheckpoint()
        {
            lastCheckpoint = checkpoints.Save(network, configuration, Options.ModelClasses, optimizer, Snapshot());
            lastCheckpointTime = clock.Elapsed;
            var metrics = new Dictionary<string, double>();
            if (lastEvaluation is not null)
            {
                metrics["val_top1"] = lastEvaluation.Top1;
                metrics["val_top5"] = lastEvaluation.Top5;
                metrics["val_loss"] = lastEvaluation.Loss;
            }
            observer.OnCheckpoint(new CheckpointInfo(step, epoch, lastCheckpoint, metrics));
        }

        long? evaluatedAtStep = null;
        void EvaluateNow()
        {
            RecalibrateBatchNorm(network, trainLoader, device, step, cancellationToken);
            evaluatedAtStep = step;
            if (validationLoader is null) return;
            lastEvaluation = Evaluator.Evaluate(network, validationLoader, device, Options.EvalMaxImages, cancellationToken: cancellationToken);
            var now = DateTimeOffset.UtcNow;
            observer.OnMetrics(
            [
                new MetricPoint(step, epoch, "val_loss", lastEvaluation.Loss, now),
                new MetricPoint(step, epoch, "val_top1", lastEvaluation.Top1, now),
                new MetricPoint(step, epoch, "val_top5", lastEvaluation.Top5, now),
            ]);
            Emit("evaluated", $"step {step}: validation top-1 {lastEvaluation.Top1:P2}, top-5 {lastEvaluation.Top5:P2}, loss {lastEvaluation.Loss:F4} on {lastEvaluation.Images:N0} images");
            if (bestTop1 is null || lastEvaluation.Top1 > bestTop1)
            {
                bestTop1 = lastEvaluation.Top1;
                bestStep = step;
                SaveModel(BestModelFolder, network, $"best validation top-1 {lastEvaluation.Top1:P2} at step {step}");
            }
        }

        network.train();
        try
        {
            while (step < totalSteps && !cancelled)
            {
                foreach (var batch in trainLoader.ReadEpoch(epoch, batchInEpoch, cancellationToken))
                {
                    using var owned = batch;
                    foreach (var failure in batch.Failures)
                        Emit("skipped-image", $"skipped {failure.Name}: {failure.Reason}", "warning");

                    if (batch.Count > 0)
                    {
                        double learningRate = schedule.At(step);
                        using var scope = NewDisposeScope();
                        var (images, labels) = BatchTensors.ToTensors(batch, architecture.InputSize, device);
                        optimizer.ZeroGrad();
                        var logits = network.forward(images);
                        var loss = nn.functional.cross_entropy(logits, labels);
                        loss.backward();
                        optimizer.Step(learningRate);

                        float lossValue = loss.item<float>();
                        if (!float.IsFinite(lossValue))
                            throw new TrainingDivergedException($"the loss became {lossValue} at step {step} (learning rate {learningRate:G4}); lower the learning rate");
                        intervalLoss += lossValue * batch.Count;
                        intervalCorrect += logits.argmax(1).eq(labels).sum().item<long>();
                        intervalImages += batch.Count;
                        intervalSteps++;

                        step++;
                        var elapsed = intervalClock.Elapsed.TotalSeconds;
                        if (elapsed > 0) imagesPerSecond = intervalImages / elapsed;
                        observer.OnProgress(new TrainingProgress(step, totalSteps, epoch, lossValue, learningRate, imagesPerSecond,
                            TimeSpan.FromSeconds(ElapsedSeconds()),
                            imagesPerSecond > 0 ? TimeSpan.FromSeconds((totalSteps - step) * recipe.BatchSize / imagesPerSecond) : null));

                        if (step % Options.LogEverySteps == 0 || step == totalSteps)
                        {
                            var now = DateTimeOffset.UtcNow;
                            observer.OnMetrics(
                            [
                                new MetricPoint(step, epoch, "train_loss", intervalLoss / intervalImages, now),
                                new MetricPoint(step, epoch, "train_top1", intervalCorrect / intervalImages, now),
                                new MetricPoint(step, epoch, "lr", learningRate, now),
                                new MetricPoint(step, epoch, "images_per_second", imagesPerSecond, now),
                            ]);
                            intervalLoss = intervalCorrect = 0;
                            intervalImages = intervalSteps = 0;
                            intervalClock.Restart();
                        }
                    }

                    batchInEpoch = batch.Index + 1;
                    if (batchInEpoch >= stepsPerEpoch)
                    {
                        epoch++;
                        batchInEpoch = 0;
                    }

                    // Throughput counts training only, not evaluation or checkpoint writing.
                    intervalClock.Stop();
                    bool endOfEpoch = batchInEpoch == 0;
                    if ((Options.EvalEverySteps > 0 && step % Options.EvalEverySteps == 0 && batch.Count > 0)
                        || (Options.EvalEverySteps == 0 && endOfEpoch))
                        EvaluateNow();

                    bool checkpointBySteps = Options.CheckpointEverySteps > 0 && step % Options.CheckpointEverySteps == 0 && batch.Count > 0;
                    bool checkpointByTime = Options.CheckpointEveryMinutes > 0
                                            && (clock.Elapsed - lastCheckpointTime).TotalMinutes >= Options.CheckpointEveryMinutes;
                    if ((checkpointBySteps || checkpointByTime) && step < totalSteps)
                        SaveCheckpoint();
                    intervalClock.Start();

                    if (step >= totalSteps) break;
                    if (cancellationToken.IsCancellationRequested)
                    {
                        cancelled = true;
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancelled = true;
        }

        if (cancelled)
        {
            SaveCheckpoint();
            Emit("cancelled", $"cancelled at step {step}; checkpoint {lastCheckpoint}");
            return new TrainingResult(TrainingOutcome.Cancelled, step, totalSteps, epoch, bestTop1, lastEvaluation, null,
                BestDirectory(), lastCheckpoint, TimeSpan.FromSeconds(ElapsedSeconds()));
        }

        if (evaluatedAtStep != step)
            EvaluateNow();
        SaveCheckpoint();
        var modelDirectory = SaveModel(ModelFolder, network, $"final weights after {step:N0} steps");
        Emit("completed", $"completed {step:N0} steps in {TimeSpan.FromSeconds(ElapsedSeconds()):hh\\:mm\\:ss}" +
                          (bestTop1 is { } top1 ? $"; best validation top-1 {top1:P2} at step {bestStep}" : ""));
        return new TrainingResult(TrainingOutcome.Completed, step, totalSteps, epoch, bestTop1, lastEvaluation, modelDirectory,
            BestDirectory(), lastCheckpoint, TimeSpan.FromSeconds(ElapsedSeconds()));
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
            Emit("no-validation", $"no validation split, so no evaluation during training ({e.Message})", "warning");
            return null;
        }
        return new BatchLoader(validationSet, preprocessor, new LoaderOptions
        {
            BatchSize = Math.Min(Options.Configuration.Training.BatchSize, 256), Threads = Options.LoaderThreads,
        });
    }

    private TrainingState Restore(string directory, SqueezeNextNetwork network, SgdMomentum optimizer, Device device, int stepsPerEpoch)
    {
        using var checkpoint = CheckpointStore.Load(directory, Options.Configuration);
        if (checkpoint.State.StepsPerEpoch != stepsPerEpoch || checkpoint.State.Seed != Options.Seed)
            throw new ArtifactException(
                $"checkpoint {directory} was made with {checkpoint.State.StepsPerEpoch} steps per epoch and seed {checkpoint.State.Seed}; " +
                $"this run has {stepsPerEpoch} and {Options.Seed}, so the data order would not continue where it stopped");
        using (no_grad())
        {
            var source = checkpoint.Model.Network.state_dict();
            foreach (var (name, target) in network.state_dict()) target.copy_(source[name]);
        }
        optimizer.LoadState(checkpoint.OptimizerState, directory);
        return checkpoint.State;
    }

    private void RecalibrateBatchNorm(SqueezeNextNetwork network, BatchLoader trainLoader, Device device, long step, CancellationToken cancellationToken)
    {
        int batches = Options.Configuration.Training.PreciseBatchNormBatches;
        if (batches <= 0) return;
        // An epoch number no training epoch uses, so recalibration batches do not disturb the data order.
        int calibrationEpoch = int.MaxValue - (int)(step % 1_000_000);
        PreciseBatchNorm.Recalibrate(network, trainLoader.ReadEpoch(calibrationEpoch, 0, cancellationToken), batches, device);
    }

    private string SaveModel(string folder, SqueezeNextNetwork network, string origin)
    {
        var directory = Path.Combine(Options.OutputDirectory, folder);
        ModelArtifact.Save(directory, network, Options.Configuration, Options.ModelClasses, origin);
        return directory;
    }

    private string? BestDirectory()
    {
        var directory = Path.Combine(Options.OutputDirectory, BestModelFolder);
        return Directory.Exists(directory) ? directory : null;
    }

    private void Emit(string kind, string message, string level = "info") =>
        observer.OnEvent(new TrainingEvent(kind, message, DateTimeOffset.UtcNow, level));
}

/// <summary>The loss became NaN or infinite; the run cannot continue.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
