using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Options;
using SqueezeNext.Contracts;
using SqueezeNext.Vision.Data;
using SqueezeNext.WorkerHost.Inference;
using SqueezeNext.WorkerHost.Options;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Classifies a batch of requests with one forward pass per model: the images are decoded in parallel, each bad image
/// is answered with <see cref="ClassificationRejected"/> and the reason, and the rest of the batch is answered
/// normally. Every answer goes to the caller (when it waits) and is published as an event.
/// </summary>
public sealed class ClassifyImageConsumer(ModelCache models, IOptions<WorkerOptions> options, WorkerMetrics metrics, ILogger<ClassifyImageConsumer> logger)
    : IConsumer<Batch<ClassifyImage>>
{
    private readonly ClassificationOptions settings = options.Value.Classification;
    private readonly ImageDecoder decoder = new(new ImageLimits
    {
        MaxBytes = options.Value.Classification.MaxImageBytes,
        MaxPixels = options.Value.Classification.MaxImagePixels,
    });

    public async Task Consume(ConsumeContext<Batch<ClassifyImage>> context)
    {
        var now = DateTime.UtcNow;
        foreach (var request in context.Message)
        {
            if (request.SentTime is { } sent) metrics.RecordClassifyQueueTime(now - sent);
        }
        foreach (var group in context.Message.GroupBy(r => (r.Message.ModelName, r.Message.ModelVersion)))
            await ClassifyGroupAsync(group.ToArray(), group.Key.ModelName, group.Key.ModelVersion, context.CancellationToken);
    }

    private async Task ClassifyGroupAsync(ConsumeContext<ClassifyImage>[] requests, string? modelName, int? modelVersion, CancellationToken cancellationToken)
    {
        ServedModel model;
        try
        {
            model = await models.GetAsync(modelName, modelVersion, cancellationToken);
        }
        catch (ModelUnavailableException e)
        {
            foreach (var request in requests) await RejectAsync(request, e.Message);
            return;
        }

        var clock = Stopwatch.StartNew();
        var preprocessor = model.Classifier.Preprocessor;
        int values = preprocessor.ValuesPerImage;
        var buffer = new float[requests.Length * values];
        var errors = new string?[requests.Length];
        int classes = model.Classifier.Labels.Count;
        Parallel.For(0, requests.Length, new ParallelOptions { MaxDegreeOfParallelism = settings.DecodeThreads }, i =>
        {
            var message = requests[i].Message;
            if (message.Top < 1 || message.Top > classes)
            {
                errors[i] = $"top: {message.Top} is outside 1..{classes}";
                return;
            }
            try
            {
                using var image = decoder.Decode(message.Image ?? [], $"image of request {message.RequestId}");
                preprocessor.Evaluate(image, buffer.AsSpan(i * values, values));
            }
            catch (ImageDecodeException e)
            {
                errors[i] = e.Message;
            }
        });

        var valid = Enumerable.Range(0, requests.Length).Where(i => errors[i] is null).ToArray();
        IReadOnlyList<IReadOnlyList<Vision.Inference.Prediction>> predictions = [];
        if (valid.Length > 0)
        {
            // Gather the decodable images into the front of the buffer for one forward pass.
            for (int slot = 0; slot < valid.Length; slot++)
            {
                if (valid[slot] != slot) Array.Copy(buffer, valid[slot] * values, buffer, slot * values, values);
            }
            int top = valid.Max(i => requests[i].Message.Top);
            lock (model.Gate)
                predictions = model.Classifier.ClassifyPreprocessed(buffer, valid.Length, top);
        }
        clock.Stop();
        metrics.RecordClassifyBatch(valid.Length, clock.Elapsed);

        for (int i = 0; i < requests.Length; i++)
        {
            if (errors[i] is { } error)
            {
                await RejectAsync(requests[i], error);
                continue;
            }
            var message = requests[i].Message;
            var answer = new ImageClassified(
                message.RequestId,
                model.Version.Name,
                model.Version.Version,
                predictions[Array.IndexOf(valid, i)].Take(message.Top)
                    .Select(p => new ClassPrediction(p.Index, p.Synset, p.Name, p.FullName, p.Probability)).ToArray(),
                clock.Elapsed.TotalMilliseconds,
                valid.Length);
            metrics.CountClassify("classified");
            await AnswerAsync(requests[i], answer);
        }
    }

    private async Task RejectAsync(ConsumeContext<ClassifyImage> request, string reason)
    {
        logger.LogInformation("Rejected classify request {RequestId}: {Reason}", request.Message.RequestId, reason);
        metrics.CountClassify("rejected");
        await AnswerAsync(request, new ClassificationRejected(request.Message.RequestId, reason));
    }

    private static async Task AnswerAsync<T>(ConsumeContext<ClassifyImage> request, T answer) where T : class
    {
        if (request.ResponseAddress is not null) await request.RespondAsync(answer);
        await request.Publish(answer);
    }
}
