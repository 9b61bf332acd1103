using System.Diagnostics;
using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Telemetry;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Dashboard.Messaging;

/// <summary>
/// The dashboard's one way to send commands to the workers. Every page gets the answer, the worker's rejection or the
/// fact that no worker answered in time, as a <see cref="CommandReply{TAnswer}"/>; none of them sees a broker exception.
/// </summary>
public sealed class WorkerCommands(IBus bus, MessagePayloads payloads, DashboardMetrics metrics)
{
    /// <summary>How long a page waits for a worker's answer (MassTransit's own default for requests).</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a download waits for its export: an ONNX graph is built and checked on first export.</summary>
    public static readonly TimeSpan ExportTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Sends a command the workers answer with <typeparamref name="TAnswer"/> or refuse with <see cref="CommandRejected"/>.</summary>
    public Task<CommandReply<TAnswer>> RequestAsync<TCommand, TAnswer>(TCommand command)
        where TCommand : class where TAnswer : class =>
        Counted<TCommand, TAnswer>(bus.RequestAsync<TCommand, TAnswer>(command, AnswerTimeout));

    /// <summary>
    /// Classifies an image, through the message data store when it is over the inline limit. Sent non-persistent: an
    /// answer someone waits for cannot outlive the broker anyway (docs/messages.md).
    /// </summary>
    public async Task<CommandReply<ImageClassified>> ClassifyAsync(Guid requestId, byte[] image, int top, string? model = null, int? version = null)
    {
        var started = Stopwatch.GetTimestamp();
        var (inline, reference) = await payloads.PackAsync(image);
        var request = new ClassifyImage(requestId, inline, top, model, version, reference);
        var reply = await bus.RequestAsync<ClassifyImage, ImageClassified, ClassificationRejected>(request, rejected => rejected.Reason, AnswerTimeout, persistent: false);
        metrics.RecordClassify(reply.Outcome, Stopwatch.GetElapsedTime(started));
        return reply;
    }

    /// <summary>Imports a weights file as the next version of <paramref name="modelName"/>, through the message data store when it is over the inline limit.</summary>
    public async Task<CommandReply<ModelRegistered>> ImportAsync(Guid commandId, string modelName, string fileName, string format, byte[] weights,
        string? configuration, string? description = null)
    {
        var (inline, reference) = await payloads.PackAsync(weights);
        return await RequestAsync<ImportModel, ModelRegistered>(new ImportModel(commandId, modelName, fileName, format, inline, configuration, description, reference));
    }

    /// <summary>A model version as one file, which a worker writes into the message data store.</summary>
    public Task<CommandReply<ModelExported>> ExportAsync(ExportModel request) =>
        Counted<ExportModel, ModelExported>(bus.RequestAsync<ExportModel, ModelExported>(request, ExportTimeout));

    /// <summary>Reads a worker's export from the message data store.</summary>
    public Task<byte[]> ReadExportAsync(ModelExported exported) => payloads.ReadAsync(null, exported.File, long.MaxValue);

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

    private async Task<CommandReply<TAnswer>> Counted<TCommand, TAnswer>(Task<CommandReply<TAnswer>> sending) where TAnswer : class
    {
        var reply = await sending;
        metrics.CountCommand(typeof(TCommand).Name, reply.Outcome);
        return reply;
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
