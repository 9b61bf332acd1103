using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Dashboard.Commands;

/// <summary>
/// The dashboard's one way to send commands to the workers. Every page gets the answer, the worker's rejection or the
/// fact that no worker answered in time, as a <see cref="CommandReply{TAnswer}"/>; none of them sees a broker exception.
/// </summary>
public sealed class WorkerCommands(IBus bus)
{
    /// <summary>How long a page waits for a worker's answer (MassTransit's own default for requests).</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Sends a command the workers answer with <typeparamref name="TAnswer"/> or refuse with <see cref="CommandRejected"/>.</summary>
    public Task<CommandReply<TAnswer>> RequestAsync<TCommand, TAnswer>(TCommand command)
        where TCommand : class where TAnswer : class =>
        bus.RequestAsync<TCommand, TAnswer>(command, AnswerTimeout);

    /// <summary>Classifies an image. Sent non-persistent: an answer someone waits for cannot outlive the broker anyway (docs/messages.md).</summary>
    public Task<CommandReply<ImageClassified>> ClassifyAsync(ClassifyImage request) =>
        bus.RequestAsync<ClassifyImage, ImageClassified, ClassificationRejected>(request, rejected => rejected.Reason, AnswerTimeout, persistent: false);

    /// <summary>Asks whichever worker runs the run to stop it (no answer: the run's own events show the outcome). Null, or why it could not be sent.</summary>
    public async Task<string?> CancelAsync(CancelRun command)
    {
        using var sending = new CancellationTokenSource(AnswerTimeout);
        try
        {
            await bus.Publish(command, sending.Token);
            return null;
        }
        catch (OperationCanceledException)
        {
            return "The broker did not take the cancel request in time: is RabbitMQ running?";
        }
    }

    /// <summary>A reply's problem as a sentence for a page, or null when it was answered.</summary>
    public static string? Describe<TAnswer>(CommandReply<TAnswer> reply, string rejectedPrefix) where TAnswer : class =>
        reply.Problem(rejectedPrefix) is { Length: > 0 } problem ? char.ToUpperInvariant(problem[0]) + problem[1..] : null;
}

/// <summary>What a form tells its page after sending a command: a sentence, and whether it went wrong.</summary>
public sealed record CommandOutcome(string Message, bool Failed)
{
    /// <summary>The reply's problem, or <paramref name="success"/> made from the answer.</summary>
    public static CommandOutcome Of<TAnswer>(CommandReply<TAnswer> reply, string rejectedPrefix, Func<TAnswer, string> success) where TAnswer : class =>
        reply.Answer is { } answer ? new(success(answer), false) : new(WorkerCommands.Describe(reply, rejectedPrefix)!, true);
}
