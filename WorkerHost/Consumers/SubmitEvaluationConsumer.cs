using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.WorkerHost.Jobs;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>Records an evaluation run and acknowledges at once; idempotent on the run id.</summary>
public sealed class SubmitEvaluationConsumer(JobsDbContext db, JobPlanner planner, JobSignal signal, ILogger<SubmitEvaluationConsumer> logger)
    : IConsumer<SubmitEvaluation>
{
    public async Task Consume(ConsumeContext<SubmitEvaluation> context)
    {
        var command = context.Message;
        var plan = await planner.PlanEvaluationAsync(command, db, context.CancellationToken);
        await SubmissionHandler.SubmitAsync(context, db, command.RunId, plan, signal, logger);
    }
}
