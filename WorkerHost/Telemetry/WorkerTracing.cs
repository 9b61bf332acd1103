using System.Diagnostics;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.WorkerHost.Telemetry;

/// <summary>
/// The worker's spans (activity source "SqueezeNext.Worker"): a run's attempt, and a classify request's queue wait,
/// model load (when its model was not cached), decoding, wait for a batch and forward pass. The engine's own spans come from <see cref="Vision.Runtime.EngineTelemetry"/>.
/// </summary>
public static class WorkerTracing
{
    public const string SourceName = "SqueezeNext.Worker";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>An attempt at a run, from its start on the torch thread to its end: the root of the run's trace.</summary>
    public static Activity? StartAttempt(Run run, int attempt)
    {
        var span = Source.StartActivity($"run.{run.Kind.ToString().ToLowerInvariant()}", ActivityKind.Internal, parentContext: default);
        span?.SetTag("sqnxt.run_id", run.Id.ToString());
        span?.SetTag("sqnxt.run.attempt", attempt);
        span?.SetTag("sqnxt.configuration", run.ConfigurationName);
        span?.SetTag("sqnxt.dataset", run.Dataset);
        return span;
    }

    /// <summary>Marks the attempt's span with how it ended; a failure as an error with its message.</summary>
    public static void End(Activity? span, Jobs.JobOutcome outcome)
    {
        if (span is null) return;
        span.SetTag("sqnxt.run.outcome", outcome.GetType().Name.ToLowerInvariant());
        if (outcome is Jobs.JobOutcome.Failed failed) span.SetStatus(ActivityStatusCode.Error, failed.Error.Message);
    }

    /// <summary>
    /// A span that already happened (from <paramref name="start"/> to <paramref name="end"/>), under <paramref name="parent"/>:
    /// for what is known only afterwards, such as the time a message waited in its queue.
    /// </summary>
    public static void Record(string name, ActivityContext parent, DateTimeOffset start, DateTimeOffset end, params (string Key, object? Value)[] tags)
    {
        using var span = Source.StartActivity(name, ActivityKind.Internal, parent, startTime: start);
        if (span is null) return;
        foreach (var (key, value) in tags) span.SetTag(key, value);
        span.SetEndTime(end.UtcDateTime);
    }
}
