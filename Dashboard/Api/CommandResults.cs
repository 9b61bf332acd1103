using System.Text.RegularExpressions;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Dashboard.Api;

/// <summary>Turns a worker's reply to a command into the API's answer: the result, or an RFC 9457 problem that names the field.</summary>
public static partial class CommandResults
{
    /// <summary>Seconds a client is told to wait before retrying when no worker answered.</summary>
    public const int RetryAfterSeconds = 10;

    // Worker rejections start with the field they are about ("modelName: ..."), the convention of the consumers.
    [GeneratedRegex("^(?<field>[a-z][A-Za-z0-9.]*): (?<message>.+)$", RegexOptions.Singleline)]
    private static partial Regex FieldReason();

    public static IResult From<TAnswer>(CommandReply<TAnswer> reply, Func<TAnswer, IResult> answered) where TAnswer : class
    {
        if (reply.Answer is { } answer) return answered(answer);
        if (reply.Rejection is { } reason) return Rejected(reason);
        return Unanswered();
    }

    /// <summary>422 with the worker's reason, and under <c>errors</c> the field it names.</summary>
    public static IResult Rejected(string reason)
    {
        var match = FieldReason().Match(reason);
        var errors = match.Success ? new Dictionary<string, string[]> { [match.Groups["field"].Value] = [match.Groups["message"].Value] } : new Dictionary<string, string[]>();
        return Results.ValidationProblem(errors, detail: reason, title: "The workers refused the command", statusCode: StatusCodes.Status422UnprocessableEntity);
    }

    /// <summary>503 with Retry-After: the command was sent but no worker answered in time.</summary>
    public static IResult Unanswered() => new RetryAfter(Results.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable, title: "No worker answered",
        detail: $"The command was sent, but {CommandRequests.NoWorkerAnswered}. Sending it again with the same id is safe."));

    public static IResult NotFound(string what) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: what);

    /// <summary>A bad request naming one field.</summary>
    public static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: $"{field}: {message}");

    private sealed class RetryAfter(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
            return inner.ExecuteAsync(httpContext);
        }
    }
}
