using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.Dashboard.Live;

/// <summary>Receives run events on this instance's own temporary queue, so every dashboard replica sees all of them.</summary>
public sealed class RunEventsConsumer(RunNotifier notifier) :
    IConsumer<RunQueued>, IConsumer<RunStarted>, IConsumer<RunProgressed>, IConsumer<CheckpointSaved>,
    IConsumer<RunCompleted>, IConsumer<RunFailed>, IConsumer<RunCancelled>
{
    public Task Consume(ConsumeContext<RunQueued> context) => Notify(context.Message.RunId, context.Message);
    public Task Consume(ConsumeContext<RunStarted> context) => Notify(context.Message.RunId, context.Message);
    public Task Consume(ConsumeContext<RunProgressed> context) => Notify(context.Message.RunId, context.Message);
    public Task Consume(ConsumeContext<CheckpointSaved> context) => Notify(context.Message.RunId, context.Message);
    public Task Consume(ConsumeContext<RunCompleted> context) => Notify(context.Message.RunId, context.Message);
    public Task Consume(ConsumeContext<RunFailed> context) => Notify(context.Message.RunId, context.Message);
    public Task Consume(ConsumeContext<RunCancelled> context) => Notify(context.Message.RunId, context.Message);

    private Task Notify(Guid runId, object message)
    {
        notifier.Publish(runId, message);
        return Task.CompletedTask;
    }
}
