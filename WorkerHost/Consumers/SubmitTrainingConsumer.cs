using SqueezeNext.Persistence.Idempotency;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Records a training run and acknowledges at once; a job runner trains it later. Idempotent on the run id: a
/// redelivered or duplicated command answers with the run that exists. Invalid commands are recorded as rejected.
/// </summary>
public sealed class SubmitTrainingConsumer(JobsDbContext db, RunLifecycle lifecycle, JobPlanner planner, JobSignal signal, ILogger<SubmitTrainingConsumer> logger)
    : IConsumer<SubmitTraining>
{
    public Task Consume(ConsumeContext<SubmitTraining> context) =>
        SubmissionHandler.SubmitAsync(context, lifecycle, new CommandLog(db), context.Message.RunId, () => planner.PlanTrainingAsync(context.Message, db, context.CancellationToken), signal, logger);
}
