using System.Text.Json;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Data.Import;
using SqueezeNext.Vision.Training;
using SqueezeNext.WorkerHost.Datasets;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>What an attempt does on its torch thread: train with the engine's <see cref="Trainer"/>, evaluate with <see cref="ModelEvaluation"/>, or import a dataset (<see cref="DatasetImportJob"/>).</summary>
public sealed class JobWork(JobPlanner planner, DatasetImportJob imports, IOptions<WorkerOptions> options)
{
    /// <param name="resumeFrom">The run's newest recorded checkpoint: an attempt never resumes from one its predecessor wrote but could not record.</param>
    public JobOutcome Run(Run run, RunLease lease, string? resumeFrom, RunRecorder recorder, CancellationToken cancellationToken)
    {
        if (run.Kind == RunKind.Import) return imports.Run(run, lease, recorder, cancellationToken);
        // On the run's own thread, which may wait: a version's folder is looked up once per attempt.
        var (train, validation) = planner.DataForAsync(run, cancellationToken).GetAwaiter().GetResult();
        if (run.Kind == RunKind.Training)
        {
            var options = planner.TrainingOptionsFor(run, train, validation) with { Attempt = lease.Attempt, ResumeFrom = resumeFrom };
            var result = new Trainer(options, recorder).Run(cancellationToken);
            return result.Outcome == TrainingOutcome.Cancelled
                ? new JobOutcome.Stopped()
                : new JobOutcome.Completed(result.LastEvaluation?.Top1, result.LastEvaluation?.Top5, result.BestTop1, null);
        }

        var plan = EvaluationPlanOf(run);
        var started = DateTimeOffset.UtcNow;
        var evaluation = ModelEvaluation.Run(new EvaluationOptions
        {
            ModelDirectory = run.OutputDirectory!,
            DataDirectory = train.Path,
            Split = plan.DatasetSplit,
            MaxImages = plan.MaxImages,
            LoaderThreads = options.Value.LoaderThreads,
            Device = options.Value.Device,
            Engine = options.Value.Classification.InferenceEngine,
        }, (done, total) =>
        {
            double seconds = Math.Max(1e-3, (DateTimeOffset.UtcNow - started).TotalSeconds);
            recorder.OnProgress(new TrainingProgress(done, total, 0, double.NaN, 0, done / seconds, DateTimeOffset.UtcNow - started, null));
        }, cancellationToken);
        return new JobOutcome.Completed(evaluation.Result.Top1, evaluation.Result.Top5, null, evaluation.Result);
    }

    /// <summary>The row that keeps an evaluation's result.</summary>
    public static EvaluationResult EvaluationRow(Run run, EvaluationReport evaluation) => new()
    {
        RunId = run.Id,
        ModelVersionId = run.ModelVersionId,
        Dataset = run.Dataset,
        Split = EvaluationPlanOf(run).Split,
        Images = evaluation.Images,
        Loss = double.IsFinite(evaluation.Loss) ? evaluation.Loss : null,
        Top1 = evaluation.Top1,
        Top5 = evaluation.Top5,
        ImagesPerSecond = evaluation.ImagesPerSecond,
        PerClassJson = JsonSerializer.Serialize(evaluation.PerClass.Select(c => new { c.Index, c.Name, c.Correct, c.Total }), JobPlanner.Json),
        CreatedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>What a user reads in the run's error: the message for expected failures, type and message otherwise.</summary>
    public static string Describe(Exception failure) => failure switch
    {
        DatasetException or TrainingDivergedException or ArtifactException or ImageDecodeException or ImportRefusedException or InvalidDatasetNameException
            or Vision.Model.InvalidConfigurationException or ArgumentException => failure.Message,
        _ => $"{failure.GetType().Name}: {failure.Message}",
    };

    private static EvaluationPlan EvaluationPlanOf(Run run) => EvaluationPlan.FromJson(run.PlanJson, $"run {run.Id}");
}
