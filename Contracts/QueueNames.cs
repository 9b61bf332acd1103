namespace SqueezeNext.Contracts;

/// <summary>
/// The workers' receive queues on the broker, one per command. Faulted messages go to the queue's <c>_error</c> twin
/// and messages no consumer knows to its <c>_skipped</c> twin (MassTransit's conventions).
/// </summary>
public static class QueueNames
{
    public const string SubmitTraining = "submit-training";
    public const string SubmitEvaluation = "submit-evaluation";
    public const string CancelRun = "cancel-run";
    public const string ResumeRun = "resume-run";
    public const string RegisterModel = "register-model";
    public const string ImportModel = "import-model";
    public const string PromoteModel = "promote-model";
    public const string ExportModel = "export-model";
    public const string ImportDataset = "import-dataset";
    public const string ClassifyImage = "classify-image";

    public static readonly IReadOnlyList<string> WorkerQueues =
        [SubmitTraining, SubmitEvaluation, CancelRun, ResumeRun, RegisterModel, ImportModel, PromoteModel, ExportModel, ImportDataset, ClassifyImage];

    public static string ErrorQueue(string queue) => queue + "_error";
}
