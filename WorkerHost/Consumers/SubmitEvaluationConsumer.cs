using SqueezeNext.Persistence.Idempotency;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>Records an evaluation run and acknowledges at once; idempotent on the run id.</summary>
public sealed class SubmitEvaluationConsumer(JobsDbContext db, RunLifecycle lifecycle, JobPlanner planner, JobSignal signal, ILogger<SubmitEvaluationConsumer> logger)
    : IConsumer<SubmitEvaluation>
{
    public Task Consume(ConsumeContext<SubmitEvaluation> context) =>
        SubmissionHandler.SubmitAsync(context, lifecycle, new CommandLog(db), context.Message.RunId,
            () => planner.PlanEvaluationAsync(context.Message, db, context.CancellationToken), signal, logger);
}
