using System.Diagnostics;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Runtime;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>
/// The loop of one <see cref="Trainer.Run"/>: its position, counters and what happens between steps. Over 200 lines
/// because these share one state, which a split would have to pass around.
/// </summary>
internal sealed class TrainingSession(
    Trainer trainer,
    SqueezeNextNetwork network,
    SgdMomentum optimizer,
    BatchLoader trainLoader,
    BatchLoader? validationLoader,
    CheckpointStore checkpoints,
    Device device,
    TrainingState initial,
    CancellationToken cancellationToken)
{
    private readonly TrainingOptions options = trainer.Options;
    private readonly PolynomialWarmupSchedule schedule = PolynomialWarmupSchedule.For(trainer.Options.Plan.Configuration.Training, initial.TotalSteps);
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Stopwatch intervalClock = new();
    private readonly long totalSteps = initial.TotalSteps;
    private readonly int stepsPerEpoch = initial.StepsPerEpoch;

    private long step = initial.Step;
    private int epoch = initial.Epoch;
    private int batchInEpoch = initial.BatchInEpoch;
    private double? bestTop1 = initial.BestTop1;
    private long? bestStep = initial.BestStep;
    private long? evaluatedAtStep;
    private EvaluationResult? lastEvaluation;
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
    private readonly KeyValuePair<string, object?> configurationTag = EngineTelemetry.Configuration(trainer.Options.Plan.Configuration.Name);

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
                            trainer.Emit(TrainingEventKind.SkippedImage, $"skipped {failure.Name}: {failure.Reason}", "warning");
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
        var loss = nn.functional.cross_entropy(logits, labels);
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
            ? TimeSpan.FromSeconds((totalSteps - step) * (double)options.Plan.Configuration.Training.BatchSize / imagesPerSecond)
            : (TimeSpan?)null;
        if (step % options.LogEverySteps == 0 || step == totalSteps) ReportInterval(learningRate);
        trainer.Observer.OnProgress(new TrainingProgress(step, totalSteps, epoch, reportedLoss, learningRate, imagesPerSecond, Elapsed, remaining));
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
        trainer.Observer.OnMetrics(
        [
            new MetricPoint(step, epoch, TrainingMetrics.TrainLoss, meanLoss, now),
            new MetricPoint(step, epoch, TrainingMetrics.TrainTop1, correct / intervalImages, now),
            new MetricPoint(step, epoch, TrainingMetrics.LearningRate, learningRate, now),
            new MetricPoint(step, epoch, TrainingMetrics.ImagesPerSecond, imagesPerSecond, now),
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
        options.Plan.Settings.EvalEverySteps > 0
            ? batch.Count > 0 && step % options.Plan.Settings.EvalEverySteps == 0
            : batchInEpoch == 0;

    private bool CheckpointDue(Batch batch)
    {
        if (step >= totalSteps) return false;
        bool bySteps = options.Plan.Settings.CheckpointEverySteps > 0 && batch.Count > 0 && step % options.Plan.Settings.CheckpointEverySteps == 0;
        bool byTime = options.Plan.Settings.CheckpointEveryMinutes > 0 && (clock.Elapsed - lastCheckpointTime).TotalMinutes >= options.Plan.Settings.CheckpointEveryMinutes;
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
        var result = Evaluator.Evaluate(network, validationLoader, device, options.Plan.Settings.EvalMaxImages, cancellationToken: cancellationToken);
        span?.SetTag("sqnxt.images", result.Images);
        span?.SetTag("sqnxt.top1", result.Top1);
        lastEvaluation = result;
        EngineTelemetry.EvaluationTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, configurationTag);
        var now = DateTimeOffset.UtcNow;
        trainer.Observer.OnMetrics(
        [
            new MetricPoint(step, epoch, TrainingMetrics.ValidationLoss, result.Loss, now),
            new MetricPoint(step, epoch, TrainingMetrics.ValidationTop1, result.Top1, now),
            new MetricPoint(step, epoch, TrainingMetrics.ValidationTop5, result.Top5, now),
        ]);
        trainer.Emit(TrainingEventKind.Evaluated, $"step {step}: validation top-1 {result.Top1:P2}, top-5 {result.Top5:P2}, loss {result.Loss:F4} on {result.Images:N0} images");
        if (bestTop1 is null || result.Top1 > bestTop1)
        {
            bestTop1 = result.Top1;
            bestStep = step;
            trainer.SaveModel(Trainer.BestModelFolder, network, $"best validation top-1 {result.Top1:P2} at step {step}");
        }
    }

    private void RecalibrateBatchNorm()
    {
        int batches = options.Plan.Configuration.Training.PreciseBatchNormBatches;
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
        lastCheckpoint = checkpoints.Save(network, options.Plan, optimizer, state);
        EngineTelemetry.CheckpointTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, configurationTag);
        lastCheckpointTime = clock.Elapsed;
        var metrics = new Dictionary<string, double>();
        if (lastEvaluation is not null)
        {
            metrics[TrainingMetrics.ValidationTop1] = lastEvaluation.Top1;
            metrics[TrainingMetrics.ValidationTop5] = lastEvaluation.Top5;
            metrics[TrainingMetrics.ValidationLoss] = lastEvaluation.Loss;
        }
        trainer.Observer.OnCheckpoint(new CheckpointInfo(step, epoch, lastCheckpoint, metrics));
    }

    private TrainingResult Cancel()
    {
        SaveCheckpoint();
        trainer.Emit(TrainingEventKind.Cancelled, $"cancelled at step {step}; checkpoint {lastCheckpoint}");
        return Result(TrainingOutcome.Cancelled, modelDirectory: null);
    }

    private TrainingResult Complete()
    {
        if (evaluatedAtStep != step) Evaluate();
        SaveCheckpoint();
        var modelDirectory = trainer.SaveModel(Trainer.ModelFolder, network, $"final weights after {step:N0} steps");
        trainer.Emit(TrainingEventKind.Completed, $"completed {step:N0} steps in {Elapsed:hh\\:mm\\:ss}" +
                                  (bestTop1 is { } top1 ? $"; best validation top-1 {top1:P2} at step {bestStep}" : ""));
        return Result(TrainingOutcome.Completed, modelDirectory);
    }

    private TrainingResult Result(TrainingOutcome outcome, string? modelDirectory)
    {
        var best = Path.Combine(options.OutputDirectory, Trainer.BestModelFolder);
        return new TrainingResult(outcome, step, totalSteps, epoch, bestTop1, lastEvaluation, modelDirectory,
            Directory.Exists(best) ? best : null, lastCheckpoint, Elapsed);
    }
}
