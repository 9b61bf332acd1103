using System.Diagnostics;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Runtime;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// One <see cref="Trainer.Run"/>, from top to bottom: the constructor opens the data, builds the network and optimiser
/// and resumes from a checkpoint; <see cref="Run"/> is the loop; below it, what happens between steps. Over 300 lines
/// because these share one state, which a split would have to pass around.
/// </summary>
internal sealed class TrainingLoop : IDisposable
{
    private readonly TrainingOptions options;
    private readonly TrainingPlan plan;
    private readonly TrainingRecipe recipe;
    private readonly ITrainingObserver observer;
    private readonly CancellationToken cancellationToken;
    private readonly Device device;
    private readonly BatchLoader trainLoader;
    private readonly BatchLoader? validationLoader;
    private readonly SqueezeNextNetwork network;
    private readonly SgdMomentum optimizer;
    private readonly CheckpointStore checkpoints;
    private readonly TrainingState initial;
    private readonly PolynomialWarmupSchedule schedule;
    private readonly long totalSteps;
    private readonly int stepsPerEpoch;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Stopwatch intervalClock = new();
    private readonly KeyValuePair<string, object?> configurationTag;

    private long step;
    private int epoch;
    private int batchInEpoch;
    private double? bestTop1;
    private long? bestStep;
    private long? evaluatedAtStep;
    private EvaluationReport? lastEvaluation;
    private string? lastCheckpoint;
    private TimeSpan lastCheckpointTime;

    // Training metrics over the steps since the last report, summed on the device and read only at each report: reading
    // them every step would make the host wait for the device at every step.
    private Tensor? intervalLossSum;
    private Tensor? intervalCorrectSum;
    private int intervalImages;
    private double reportedLoss = double.NaN;
    private double imagesPerSecond;
    private Activity? epochSpan;
    private long epochFirstStep;
    private double intervalSecondsAtLastStep;

    public TrainingLoop(TrainingOptions options, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        this.options = options;
        this.observer = observer;
        this.cancellationToken = cancellationToken;
        plan = options.Plan;
        recipe = plan.Configuration.Training;
        configurationTag = EngineTelemetry.Configuration(plan.Configuration.Name);
        if (options.TorchThreads is { } threads) set_num_threads(threads);
        device = DeviceSelector.Resolve(options.Device);

        var preprocessor = ImagePreprocessor.For(plan.Configuration);
        var trainSet = DatasetReader.Open(options.TrainData, DatasetSplit.Train, plan.ClassOrder);
        trainLoader = new BatchLoader(trainSet, preprocessor, new LoaderOptions
        {
            BatchSize = recipe.BatchSize, Threads = options.LoaderThreads, Shuffle = true, Augment = true, DropLast = true, Seed = plan.Schedule.Seed,
        });
        validationLoader = OpenValidation(preprocessor);
        stepsPerEpoch = trainLoader.BatchesPerEpoch;
        totalSteps = plan.TotalSteps(stepsPerEpoch);
        Directory.CreateDirectory(options.OutputDirectory);

        network = new SqueezeNextNetwork(plan.Configuration.Architecture, recipe.Init, plan.Schedule.Seed);
        try
        {
            network.to(device);
            optimizer = new SgdMomentum(network.named_parameters(), recipe.Momentum, recipe.WeightDecay);
            checkpoints = new CheckpointStore(options.OutputDirectory, options.KeepCheckpoints, options.Attempt, EnsureMayWriteOutput);
            initial = new TrainingState { TotalSteps = totalSteps, StepsPerEpoch = stepsPerEpoch, Seed = plan.Schedule.Seed };
            if ((options.ResumeFrom ?? (options.Resume ? checkpoints.Latest() : null)) is { } latest)
            {
                // The run may be resumed with another length (--steps, --epochs): the schedule follows the new one.
                var (restored, changes) = Restore(latest);
                initial = restored with { TotalSteps = totalSteps };
                Emit(TrainingEventKind.Resumed, $"resumed from {latest} at step {initial.Step} (epoch {initial.Epoch + 1}, batch {initial.BatchInEpoch}) on {trainSet.Description}" +
                    (changes.Count > 0 ? $"; changed since that checkpoint: {string.Join(", ", changes)}" : ""));
            }
            else
            {
                Emit(TrainingEventKind.Started, $"training {plan.Configuration.Name} on {trainSet.Description}; {totalSteps:N0} steps of {recipe.BatchSize} " +
                                                $"({stepsPerEpoch:N0} per epoch) on {device}");
            }
            if (recipe.PreciseBatchNormBatches == 0 && totalSteps < Trainer.ShortRunSteps)
                Emit(TrainingEventKind.ShortRun, $"only {totalSteps:N0} steps: BatchNorm's running averages (decay 0.999) will lag the weights, so evaluation " +
                                                 "may be poor; set training.preciseBatchNormBatches (sqnxt train --precise-bn 50)", "warning");
        }
        catch
        {
            // Constructed in part: nothing else will dispose what was made.
            optimizer?.Dispose();
            network.Dispose();
            throw;
        }
        schedule = PolynomialWarmupSchedule.For(recipe, totalSteps);
        step = initial.Step;
        epoch = initial.Epoch;
        batchInEpoch = initial.BatchInEpoch;
        bestTop1 = initial.BestTop1;
        bestStep = initial.BestStep;
    }

    private TimeSpan Elapsed => TimeSpan.FromSeconds(initial.ElapsedSeconds) + clock.Elapsed;

    public TrainingResult Run()
    {
        network.train();
        bool cancelled = false;
        try
        {
            while (step < totalSteps && !cancelled)
            {
                foreach (var batch in trainLoader.ReadEpoch(epoch, batchInEpoch, cancellationToken))
                {
                    epochSpan ??= StartEpochSpan();
                    using (batch)
                    {
                        foreach (var failure in batch.Failures)
                            Emit(TrainingEventKind.SkippedImage, $"skipped {failure.Name}: {failure.Reason}", "warning");
                        if (batch.Count > 0) TrainStep(batch);
                        AdvancePast(batch);
                    }
                    // Throughput counts training only, not evaluation or checkpoint writing.
                    intervalClock.Stop();
                    if (EvaluationDue(batch)) Evaluate();
                    if (CheckpointDue(batch)) SaveCheckpoint();
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
        finally
        {
            DisposeIntervalSums();
            EndEpochSpan();
        }
        return cancelled ? Cancel() : Complete();
    }

    private void TrainStep(Batch batch)
    {
        intervalClock.Start();
        double learningRate = schedule.At(step);
        using var scope = NewDisposeScope();
        var (images, labels) = BatchTensors.ToTensors(batch, network.Architecture.InputSize, device);
        optimizer.ZeroGrad();
        var logits = network.forward(images);
        var loss = recipe.Loss(logits, labels);
        loss.backward();
        FaultPoints.Reach(FaultPoints.TrainingStep);
        optimizer.Step(learningRate);

        using (no_grad())
        {
            AddTo(ref intervalLossSum, loss.detach() * batch.Count);
            AddTo(ref intervalCorrectSum, logits.argmax(1).eq(labels).sum());
        }
        intervalImages += batch.Count;
        step++;

        double seconds = intervalClock.Elapsed.TotalSeconds;
        if (seconds > 0) imagesPerSecond = intervalImages / seconds;
        EngineTelemetry.StepTime.Record(seconds - intervalSecondsAtLastStep, configurationTag);
        EngineTelemetry.ImagesTrained.Add(batch.Count, configurationTag);
        intervalSecondsAtLastStep = seconds;
        var remaining = imagesPerSecond > 0
            ? TimeSpan.FromSeconds((totalSteps - step) * (double)recipe.BatchSize / imagesPerSecond)
            : (TimeSpan?)null;
        if (step % options.LogEverySteps == 0 || step == totalSteps) ReportInterval(learningRate);
        observer.OnProgress(new TrainingProgress(step, totalSteps, epoch, reportedLoss, learningRate, imagesPerSecond, Elapsed, remaining));
    }

    /// <summary>Adds a step's value to an interval sum that outlives the step's dispose scope.</summary>
    private static void AddTo(ref Tensor? sum, Tensor value)
    {
        if (sum is null) sum = value.to(float64).DetachFromDisposeScope();
        else sum.add_(value);
    }

    private void ReportInterval(double learningRate)
    {
        double lossSum = intervalLossSum!.item<double>(), correct = intervalCorrectSum!.item<double>();
        DisposeIntervalSums();
        double meanLoss = lossSum / intervalImages;
        if (!double.IsFinite(meanLoss))
            throw new TrainingDivergedException(
                $"the loss became {meanLoss} by step {step} (learning rate {learningRate:G4}); lower the learning rate");
        reportedLoss = meanLoss;
        var now = DateTimeOffset.UtcNow;
        observer.OnMetrics(
        [
            new TrainingMetric(step, epoch, TrainingMetrics.TrainLoss, meanLoss, now),
            new TrainingMetric(step, epoch, TrainingMetrics.TrainTop1, correct / intervalImages, now),
            new TrainingMetric(step, epoch, TrainingMetrics.LearningRate, learningRate, now),
            new TrainingMetric(step, epoch, TrainingMetrics.ImagesPerSecond, imagesPerSecond, now),
        ]);
        intervalImages = 0;
        intervalClock.Reset();
        intervalSecondsAtLastStep = 0;
    }

    private void DisposeIntervalSums()
    {
        intervalLossSum?.Dispose();
        intervalCorrectSum?.Dispose();
        intervalLossSum = intervalCorrectSum = null;
    }

    private void AdvancePast(Batch batch)
    {
        batchInEpoch = batch.Index + 1;
        if (batchInEpoch < stepsPerEpoch) return;
        EndEpochSpan();
        epoch++;
        batchInEpoch = 0;
    }

    private Activity? StartEpochSpan()
    {
        epochFirstStep = step;
        var span = EngineTelemetry.Source.StartActivity("training.epoch");
        span?.SetTag("sqnxt.epoch", epoch + 1);
        span?.SetTag("sqnxt.epoch.first_batch", batchInEpoch);
        return span;
    }

    /// <summary>Ends the epoch's span: at the epoch's end, or where the loop stops inside it (cancelled, the last step).</summary>
    private void EndEpochSpan()
    {
        if (epochSpan is null) return;
        epochSpan.SetTag("sqnxt.steps", step - epochFirstStep);
        epochSpan.SetTag("sqnxt.images_per_second", imagesPerSecond);
        epochSpan.Dispose();
        epochSpan = null;
    }

    private bool EvaluationDue(Batch batch) =>
        plan.Schedule.EvalEverySteps > 0
            ? batch.Count > 0 && step % plan.Schedule.EvalEverySteps == 0
            : batchInEpoch == 0;

    private bool CheckpointDue(Batch batch)
    {
        if (step >= totalSteps) return false;
        bool bySteps = plan.Schedule.CheckpointEverySteps > 0 && batch.Count > 0 && step % plan.Schedule.CheckpointEverySteps == 0;
        bool byTime = plan.Schedule.CheckpointEveryMinutes > 0 && (clock.Elapsed - lastCheckpointTime).TotalMinutes >= plan.Schedule.CheckpointEveryMinutes;
        return bySteps || byTime;
    }

    private void Evaluate()
    {
        using var span = EngineTelemetry.Source.StartActivity("training.evaluation");
        span?.SetTag("sqnxt.step", step);
        var started = Stopwatch.GetTimestamp();
        RecalibrateBatchNorm();
        evaluatedAtStep = step;
        if (validationLoader is null) return;
        var result = Evaluator.Evaluate(network, validationLoader, device, plan.Schedule.EvalMaxImages, cancellationToken: cancellationToken);
        span?.SetTag("sqnxt.images", result.Images);
        span?.SetTag("sqnxt.top1", result.Top1);
        lastEvaluation = result;
        EngineTelemetry.EvaluationTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, configurationTag);
        var now = DateTimeOffset.UtcNow;
        observer.OnMetrics(
        [
            new TrainingMetric(step, epoch, TrainingMetrics.ValidationLoss, result.Loss, now),
            new TrainingMetric(step, epoch, TrainingMetrics.ValidationTop1, result.Top1, now),
            new TrainingMetric(step, epoch, TrainingMetrics.ValidationTop5, result.Top5, now),
        ]);
        Emit(TrainingEventKind.Evaluated, $"step {step}: validation top-1 {result.Top1:P2}, top-5 {result.Top5:P2}, loss {result.Loss:F4} on {result.Images:N0} images");
        if (bestTop1 is null || result.Top1 > bestTop1)
        {
            bestTop1 = result.Top1;
            bestStep = step;
            SaveModel(Trainer.BestModelFolder, network, $"best validation top-1 {result.Top1:P2} at step {step}");
        }
    }

    private void RecalibrateBatchNorm()
    {
        int batches = recipe.PreciseBatchNormBatches;
        if (batches <= 0) return;
        // An epoch number no training epoch uses, so recalibration batches do not disturb the data order.
        int calibrationEpoch = int.MaxValue - (int)(step % 1_000_000);
        PreciseBatchNorm.Recalibrate(network, trainLoader.ReadEpoch(calibrationEpoch, 0, cancellationToken), batches, device);
    }

    private void SaveCheckpoint()
    {
        using var span = EngineTelemetry.Source.StartActivity("training.checkpoint");
        span?.SetTag("sqnxt.step", step);
        var state = initial with
        {
            Step = step, Epoch = epoch, BatchInEpoch = batchInEpoch, BestTop1 = bestTop1, BestStep = bestStep,
            ElapsedSeconds = Elapsed.TotalSeconds, SavedAt = DateTimeOffset.UtcNow,
        };
        var started = Stopwatch.GetTimestamp();
        lastCheckpoint = checkpoints.Save(network, plan, optimizer, state);
        EngineTelemetry.CheckpointTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, configurationTag);
        lastCheckpointTime = clock.Elapsed;
        var metrics = new Dictionary<string, double>();
        if (lastEvaluation is not null)
        {
            metrics[TrainingMetrics.ValidationTop1] = lastEvaluation.Top1;
            metrics[TrainingMetrics.ValidationTop5] = lastEvaluation.Top5;
            metrics[TrainingMetrics.ValidationLoss] = lastEvaluation.Loss;
        }
        observer.OnCheckpoint(new SavedCheckpoint(step, epoch, lastCheckpoint, metrics));
    }

    private TrainingResult Cancel()
    {
        SaveCheckpoint();
        Emit(TrainingEventKind.Cancelled, $"cancelled at step {step}; checkpoint {lastCheckpoint}");
        return Result(TrainingOutcome.Cancelled, modelDirectory: null);
    }

    private TrainingResult Complete()
    {
        if (evaluatedAtStep != step) Evaluate();
        SaveCheckpoint();
        var modelDirectory = SaveModel(Trainer.ModelFolder, network, $"final weights after {step:N0} steps");
        Emit(TrainingEventKind.Completed, $"completed {step:N0} steps in {Elapsed:hh\\:mm\\:ss}" +
                                  (bestTop1 is { } top1 ? $"; best validation top-1 {top1:P2} at step {bestStep}" : ""));
        return Result(TrainingOutcome.Completed, modelDirectory);
    }

    private TrainingResult Result(TrainingOutcome outcome, string? modelDirectory)
    {
        var best = Path.Combine(options.OutputDirectory, Trainer.BestModelFolder);
        return new TrainingResult(outcome, step, totalSteps, epoch, bestTop1, lastEvaluation, modelDirectory,
            Directory.Exists(best) ? best : null, lastCheckpoint, Elapsed);
    }
    private void Emit(TrainingEventKind kind, string message, string level = "info") =>
        observer.OnEvent(new TrainingEvent(kind, message, DateTimeOffset.UtcNow, level));

    private string SaveModel(string folder, SqueezeNextNetwork model, string origin)
    {
        EnsureMayWriteOutput();
        var directory = Path.Combine(options.OutputDirectory, folder);
        ModelArtifact.Save(directory, model, plan.Configuration, plan.ModelClasses, origin);
        return directory;
    }

    private void EnsureMayWriteOutput()
    {
        if (!observer.MayWriteOutput)
            throw new OutputFencedException($"the output of this run in {options.OutputDirectory} may belong to another process now; stopped without writing");
    }

    private BatchLoader? OpenValidation(ImagePreprocessor preprocessor)
    {
        IImageDataset validationSet;
        try
        {
            validationSet = DatasetReader.Open(options.ValidationData ?? options.TrainData, DatasetSplit.Validation, plan.ClassOrder);
        }
        catch (DatasetException e) when (options.ValidationData is null)
        {
            Emit(TrainingEventKind.NoValidation, $"no validation split, so no evaluation during training ({e.Message})", "warning");
            return null;
        }
        return new BatchLoader(validationSet, preprocessor, new LoaderOptions { BatchSize = Math.Min(recipe.BatchSize, 256), Threads = options.LoaderThreads });
    }

    /// <summary>Loads a checkpoint into the network and optimiser; also names what this run's plan changes from the checkpoint's.</summary>
    private (TrainingState State, IReadOnlyList<string> PlanChanges) Restore(string directory)
    {
        using var checkpoint = CheckpointStore.Load(directory, plan.Configuration);
        if (checkpoint.State.StepsPerEpoch != stepsPerEpoch || checkpoint.State.Seed != plan.Schedule.Seed)
            throw new ArtifactException(
                $"checkpoint {directory} was made with {checkpoint.State.StepsPerEpoch} steps per epoch and seed {checkpoint.State.Seed}; " +
                $"this run has {stepsPerEpoch} and {plan.Schedule.Seed}, so the data order would not continue where it stopped");
        using (no_grad())
        {
            var source = checkpoint.Model.Network.state_dict();
            foreach (var (name, target) in network.state_dict()) target.copy_(source[name]);
        }
        optimizer.LoadState(checkpoint.OptimizerState, directory);
        return (checkpoint.State, checkpoint.Plan?.ChangesFrom(plan) ?? []);
    }

    public void Dispose()
    {
        optimizer.Dispose();
        network.Dispose();
    }
}
