using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>How a command sent to the workers ended: answered, rejected with a reason, or not answered in time.</summary>
public sealed record CommandReply<TAnswer> where TAnswer : class
{
    public TAnswer? Answer { get; private init; }

    /// <summary>The worker's reason for refusing the command, or null.</summary>
    public string? Rejection { get; private init; }

    public bool TimedOut { get; private init; }

    public bool Succeeded => Answer is not null;

    /// <summary>answered, rejected or no_answer: the outcome as a metric's tag.</summary>
    public string Outcome => Answer is not null ? "answered" : Rejection is not null ? "rejected" : "no_answer";

    /// <summary>What went wrong, in one line for a person (<paramref name="rejectedPrefix"/> before a rejection's reason); null when answered.</summary>
    public string? Problem(string rejectedPrefix) =>
        Rejection is not null ? rejectedPrefix + Rejection : TimedOut ? CommandRequests.NoWorkerAnswered : null;

    internal static CommandReply<TAnswer> Answered(TAnswer answer) => new() { Answer = answer };
    internal static CommandReply<TAnswer> Rejected(string reason) => new() { Rejection = reason };
    internal static CommandReply<TAnswer> Unanswered() => new() { TimedOut = true };
}

/// <summary>Sends a command and waits for its answer: the one way the dashboard and <c>sqnxt submit</c> talk to the workers.</summary>
public static class CommandRequests
{
    public const string NoWorkerAnswered = "no worker answered in time (is a worker running and connected to this broker?)";

    /// <param name="persistent">False for an answer someone waits for, which cannot outlive the broker anyway (docs/messages.md).</param>
    public static async Task<CommandReply<TAnswer>> RequestAsync<TCommand, TAnswer, TRejected>(this IBus bus, TCommand command,
        Func<TRejected, string> reason, TimeSpan timeout, bool persistent = true, CancellationToken cancellationToken = default)
        where TCommand : class where TAnswer : class where TRejected : class
    {
        var client = bus.CreateRequestClient<TCommand>(RequestTimeout.After(ms: (int)Math.Ceiling(timeout.TotalMilliseconds)));
        RequestPipeConfiguratorCallback<TCommand> delivery = persistent ? _ => { } : request => request.UseExecute(context => context.Durable = false);
        try
        {
            var response = await client.GetResponse<TAnswer, TRejected>(command, delivery, cancellationToken);
            if (response.Is(out Response<TRejected>? rejected)) return CommandReply<TAnswer>.Rejected(reason(rejected!.Message));
            response.Is(out Response<TAnswer>? answer);
            return CommandReply<TAnswer>.Answered(answer!.Message);
        }
        catch (RequestTimeoutException)
        {
            return CommandReply<TAnswer>.Unanswered();
        }
    }

    /// <summary><see cref="RequestAsync{TCommand,TAnswer,TRejected}"/> for the commands a worker answers or refuses with <see cref="CommandRejected"/>.</summary>
    public static Task<CommandReply<TAnswer>> RequestAsync<TCommand, TAnswer>(this IBus bus, TCommand command, TimeSpan timeout,
        CancellationToken cancellationToken = default) where TCommand : class where TAnswer : class =>
        bus.RequestAsync<TCommand, TAnswer, CommandRejected>(command, rejected => rejected.Reason, timeout, cancellationToken: cancellationToken);
}
