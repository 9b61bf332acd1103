using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Messaging;

namespace SqueezeNext.Dashboard.Api;

/// <summary>/api/v1/classify: an image through the queue and a worker, as the Classify page sends it.</summary>
public static class ClassifyApi
{
    /// <summary>The largest image taken (the workers' own default limit).</summary>
    public const long MaxImageBytes = 16L * 1024 * 1024;

    public static void MapClassifyApi(this RouteGroupBuilder api)
    {
        api.MapPost("/classify", ClassifyAsync).RequireAuthorization(Roles.Operator).WithTags("Classify")
            .WithName("Classify").WithSummary("Classify an uploaded image (multipart field 'image') with the serving model, or a named model and version")
            .DisableAntiforgery().WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxImageBytes + 1024 * 1024));
    }

    private static async Task<IResult> ClassifyAsync(WorkerCommands commands, IFormFile image, int? top, string? model, int? version, CancellationToken cancellationToken)
    {
        if (image.Length == 0) return CommandResults.Invalid("image", "the file is empty");
        if (image.Length > MaxImageBytes) return CommandResults.Invalid("image", $"{image.Length:N0} bytes; images up to {MaxImageBytes:N0} bytes can be classified");
        if (top is < 1 or > 1000) return CommandResults.Invalid("top", "must be 1 to 1000");
        using var buffer = new MemoryStream((int)image.Length);
        await image.CopyToAsync(buffer, cancellationToken);
        var reply = await commands.ClassifyAsync(MassTransit.NewId.NextGuid(), buffer.ToArray(), top ?? 5, string.IsNullOrWhiteSpace(model) ? null : model.Trim(), version);
        return CommandResults.From(reply, answer => Results.Ok(new ClassifyResult(answer.RequestId, answer.ModelName, answer.ModelVersion, answer.Predictions,
            answer.InferenceMilliseconds, answer.BatchSize)));
    }
}
