using System.Diagnostics;
using SqueezeNext.Vision.Data;
using SqueezeNext.WorkerHost.Inference;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Answers a classify request: the image goes through <see cref="BatchingClassifier"/>, which shares forward passes
/// among the requests in flight. A bad image, a missing model or a bad top is answered with
/// <see cref="ClassificationRejected"/> and the reason. The answer goes to the caller when it waits, else it is
/// published as an event (both with <see cref="ClassificationOptions.PublishAnsweredEvents"/>). The message is acknowledged only after the answer, so a worker that dies mid-pass leaves
/// its requests to another.
/// </summary>
public sealed class ClassifyImageConsumer(ModelCache models, BatchingClassifier classifier, WorkerMetrics metrics, MessagePayloads payloads,
    IOptions<WorkerOptions> options, ILogger<ClassifyImageConsumer> logger)
    : IConsumer<ClassifyImage>
{
    public async Task Consume(ConsumeContext<ClassifyImage> context)
    {
        var message = context.Message;
        using var logScope = logger.BeginScope("Classify request {RequestId}", message.RequestId);
        if (context.SentTime is { } sent)
        {
            var now = DateTime.UtcNow;
            metrics.RecordClassifyQueueTime(now - sent);
            if (Activity.Current is { } consuming) WorkerTracing.Record("classify.queue_wait", consuming.Context, DateTime.SpecifyKind(sent, DateTimeKind.Utc), now);
        }
        byte[] image;
        try
        {
            image = await payloads.ReadAsync(message.Image, message.ImageData, options.Value.Classification.MaxImageBytes);
        }
        catch (MessageDataException e)
        {
            await RejectAsync(context, $"imageData: {e.Message}");
            return;
        }

        // A model evicted from the cache while this request waited for its forward pass is loaded again, once.
        for (int attempt = 1; ; attempt++)
        {
            ServedModel model;
            try
            {
                model = await models.GetAsync(message.ModelName, message.ModelVersion, context.CancellationToken);
            }
            catch (ModelUnavailableException e)
            {
                await RejectAsync(context, e.Message);
                return;
            }
            int classes = model.Classifier.Labels.Count;
            if (message.Top < 1 || message.Top > classes)
            {
                await RejectAsync(context, $"top: {message.Top} is outside 1..{classes}");
                return;
            }

            try
            {
                var result = await classifier.ClassifyAsync(model, image, $"image of request {message.RequestId}", message.Top, context.CancellationToken);
                await AnswerClassifiedAsync(context, result, model);
                return;
            }
            catch (ImageDecodeException e)
            {
                await RejectAsync(context, e.Message);
                return;
            }
            catch (ModelUnavailableException e)
            {
                if (attempt > 1)
                {
                    await RejectAsync(context, e.Message);
                    return;
                }
                logger.LogInformation("Classify request {RequestId}: {Reason}; loading it again", message.RequestId, e.Message);
            }
        }
    }

    private async Task AnswerClassifiedAsync(ConsumeContext<ClassifyImage> context, BatchedClassification result, ServedModel model)
    {
        await AnswerAsync(context, new ImageClassified(
            context.Message.RequestId,
            model.Version.Name,
            model.Version.Version,
            result.Predictions.Select(p => new ClassPrediction(p.Index, p.Synset, p.Name, p.FullName, p.Probability)).ToArray(),
            result.Elapsed.TotalMilliseconds,
            result.BatchSize));
        metrics.RecordClassifyAnswer("classified", SinceSent(context));
    }

    private async Task RejectAsync(ConsumeContext<ClassifyImage> context, string reason)
    {
        logger.LogInformation("Rejected classify request {RequestId}: {Reason}", context.Message.RequestId, reason);
        await AnswerAsync(context, new ClassificationRejected(context.Message.RequestId, reason));
        metrics.RecordClassifyAnswer("rejected", SinceSent(context));
    }

    private static TimeSpan? SinceSent(ConsumeContext context) => context.SentTime is { } sent ? DateTime.UtcNow - sent : null;

    private async Task AnswerAsync<T>(ConsumeContext<ClassifyImage> context, T answer) where T : class
    {
        bool waiting = context.ResponseAddress is not null;
        if (waiting) await context.RespondAsync(answer);
        if (!waiting || options.Value.Classification.PublishAnsweredEvents) await context.Publish(answer);
    }
}
