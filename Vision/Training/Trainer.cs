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

    public TrainingOptions Options { get; } = options;

    public TrainingResult Run(CancellationToken cancellationToken = default)
    {
        var problems = Options.Validate();
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);
        using var loop = new TrainingLoop(Options, observer ?? NullTrainingObserver.Instance, cancellationToken);
        return loop.Run();
    }
}

/// <summary>The loss became NaN or infinite; the run cannot continue.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
