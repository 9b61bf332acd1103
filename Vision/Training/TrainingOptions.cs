namespace SqueezeNext.Vision.Training;

/// <summary>A planned training run and how this process runs it: data and output folders, device, threads, attempt, resume.</summary>
public sealed record TrainingOptions
{
    /// <summary>What to train: the configuration, labels and settings, planned once (<see cref="TrainingPlan.Create"/>).</summary>
    public required TrainingPlan Plan { get; init; }

    /// <summary>Dataset directory whose training split is used.</summary>
    public required string TrainData { get; init; }

    /// <summary>Dataset directory whose validation split is evaluated; null: the training directory's, if it has one.</summary>
    public string? ValidationData { get; init; }

    /// <summary>Where checkpoints, the best model and the final model go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Checkpoints kept (the newest); the best model is kept apart.</summary>
    public int KeepCheckpoints { get; init; } = 5;

    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Threads decoding and augmenting images.</summary>
    public int LoaderThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Threads libtorch uses for its operators; null leaves libtorch's default.</summary>
    public int? TorchThreads { get; init; }

    /// <summary>
    /// Which attempt at the run this is (a job system's fencing token; 0 outside one). Each attempt names its
    /// checkpoints apart, so two attempts that reach the same step never write the same directory.
    /// </summary>
    public int Attempt { get; init; }

    /// <summary>Continue from the newest checkpoint in the output directory.</summary>
    public bool Resume { get; init; }

    /// <summary>Continue from this checkpoint directory (a job system's newest recorded one) instead of the newest on disk.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Report training metrics every N steps.</summary>
    public int LogEverySteps { get; init; } = 10;

    /// <summary>Problems with how this process runs the plan, naming the option (the plan was validated when it was made).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Attempt < 0) problems.Add($"attempt: {Attempt} must be 0 or more");
        if (KeepCheckpoints < 1) problems.Add($"keepCheckpoints: {KeepCheckpoints} must be at least 1");
        if (LoaderThreads is < 1 or > 64) problems.Add($"loaderThreads: {LoaderThreads} is outside 1..64");
        if (TorchThreads is < 1 or > 256) problems.Add($"torchThreads: {TorchThreads} is outside 1..256");
        if (LogEverySteps < 1) problems.Add($"logEverySteps: {LogEverySteps} must be at least 1");
        return problems;
    }
}
