namespace SqueezeNext.Contracts;

/// <summary>
/// Command: train a configuration on a dataset as a background run. <see cref="RunId"/> is chosen by the sender and
/// becomes the run's id: delivering the same command twice creates one run. Answered with <see cref="RunQueued"/>
/// or <see cref="CommandRejected"/>.
/// </summary>
/// <param name="RunId">Client-chosen id of the run (idempotency key).</param>
/// <param name="Configuration">A named configuration (see <c>sqnxt configs</c>); ignored when <paramref name="ConfigurationJson"/> is given.</param>
/// <param name="Dataset">A versioned dataset's name (its newest ready version), <c>name@N</c>, or a folder under the worker's data root (never a path).</param>
/// <param name="ConfigurationJson">A user configuration document (a base and overrides), instead of a name.</param>
/// <param name="ValidationDataset">Dataset to validate on; null: the training dataset's validation split.</param>
/// <param name="Name">Display name of the run.</param>
/// <param name="Settings">The run's settings; what is left out keeps the configuration's recipe or the setting's default.</param>
public sealed record SubmitTraining(
    Guid RunId,
    string Configuration,
    string Dataset,
    string? ConfigurationJson = null,
    string? ValidationDataset = null,
    string? Name = null,
    TrainingSettings? Settings = null);
