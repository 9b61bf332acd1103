namespace SqueezeNext.Vision.Training;

/// <summary>
/// Where a training run is, reported after every step. <see cref="Loss"/> is the mean training loss of the last
/// reported interval (NaN before the first report).
/// </summary>
public sealed record TrainingProgress(
    long Step,
    long TotalSteps,
    int Epoch,
    double Loss,
    double LearningRate,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Remaining);

/// <summary>One named measurement at a step ("train_loss", "lr", "images_per_second", "val_top1", ...).</summary>
public sealed record TrainingMetric(long Step, int Epoch, string Name, double Value, DateTimeOffset Time);

/// <summary>What a <see cref="TrainingEvent"/> records. The job system stores these under the same names.</summary>
public enum TrainingEventKind
{
    Started,
    Resumed,
    ShortRun,
    NoValidation,
    SkippedImage,
    Evaluated,
    Cancelled,
    Completed,
}

/// <summary>Something worth recording in a run's event log.</summary>
public sealed record TrainingEvent(TrainingEventKind Kind, string Message, DateTimeOffset Time, string Level = "info");

/// <summary>A checkpoint that is complete on disk.</summary>
public sealed record SavedCheckpoint(long Step, int Epoch, string Directory, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Receives a training run's progress, metrics, events and checkpoints. Calls come from the training thread and
/// must return quickly: persist in batches, publish asynchronously.
/// </summary>
public interface ITrainingObserver
{
    void OnProgress(TrainingProgress progress) { }

    void OnMetrics(IReadOnlyList<TrainingMetric> points) { }

    void OnEvent(TrainingEvent trainingEvent) { }

    void OnCheckpoint(SavedCheckpoint checkpoint) { }

    /// <summary>
    /// Whether the run may still put files in its output directory, asked right before each checkpoint or model is
    /// put in place. A job system answers false once its lease on the run may have passed to another process; the
    /// trainer then stops at once, writing nothing (<see cref="OutputFencedException"/>).
    /// </summary>
    bool MayWriteOutput => true;
}

/// <summary>The run's output now belongs to another process (<see cref="ITrainingObserver.MayWriteOutput"/>); nothing was written.</summary>
public sealed class OutputFencedException(string message) : Exception(message);

/// <summary>An observer that ignores everything.</summary>
public sealed class NullTrainingObserver : ITrainingObserver
{
    public static NullTrainingObserver Instance { get; } = new();
}
