using System.Globalization;
using System.Text.Json;
using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Messaging;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Api;

/// <summary>The accepted cancel request: the run it asks to stop, and the command's id.</summary>
public sealed record CancelAccepted(Guid RunId, Guid CommandId);

/// <summary>/api/v1/runs: list, read, metrics, events; submit, cancel and resume through the workers.</summary>
public static class RunsApi
{
    public const int MaxPageSize = 500;
    public const int MaxEvents = 1000;

    public static void MapRunsApi(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapGet("/", ListAsync).RequireAuthorization(Roles.Viewer)
            .WithName("ListRuns").WithSummary("List runs, newest first, with filters and paging");
        runs.MapGet("/{id:guid}", GetAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetRun").WithSummary("A run with its configuration, plan, checkpoints and evaluation");
        runs.MapGet("/{id:guid}/metrics", MetricsAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetRunMetrics").WithSummary("Every recorded metric point, as JSON or CSV (format=csv or Accept: text/csv)")
            .Produces<MetricValue[]>(contentType: "application/json").Produces(StatusCodes.Status200OK, contentType: "text/csv");
        runs.MapGet("/{id:guid}/events", EventsAsync).RequireAuthorization(Roles.Viewer)
            .WithName("GetRunEvents").WithSummary("The run's event log, oldest first; pass the last id seen as 'after' to follow it");
        runs.MapPost("/training", SubmitTrainingAsync).RequireAuthorization(Roles.Operator)
            .WithName("SubmitTraining").WithSummary("Queue a training run; runId is the idempotency key");
        runs.MapPost("/evaluation", SubmitEvaluationAsync).RequireAuthorization(Roles.Operator)
            .WithName("SubmitEvaluation").WithSummary("Queue an evaluation run; runId is the idempotency key");
        runs.MapPost("/{id:guid}/cancel", CancelAsync).RequireAuthorization(Roles.Operator)
            .WithName("CancelRun").WithSummary("Ask the run to stop; a running run checkpoints first");
        runs.MapPost("/{id:guid}/resume", ResumeAsync).RequireAuthorization(Roles.Operator)
            .WithName("ResumeRun").WithSummary("Queue a cancelled or failed training run again, from its newest checkpoint");
    }

    private static async Task<IResult> ListAsync(DashboardQueries queries, string? status, string? kind, string? configuration, string? dataset,
        int? skip, int? take, CancellationToken cancellationToken)
    {
        RunStatus? statusFilter = null;
        if (status is not null)
        {
            if (!Enum.TryParse<RunStatus>(status, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                return CommandResults.Invalid("status", $"'{status}' is not one of {string.Join(", ", Enum.GetNames<RunStatus>().Select(n => n.ToLowerInvariant()))}");
            statusFilter = parsed;
        }
        RunKind? kindFilter = null;
        if (kind is not null)
        {
            if (!Enum.TryParse<RunKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
                return CommandResults.Invalid("kind", $"'{kind}' is not one of {string.Join(", ", Enum.GetNames<RunKind>().Select(n => n.ToLowerInvariant()))}");
            kindFilter = parsed;
        }
        if (skip is < 0) return CommandResults.Invalid("skip", "must be 0 or more");
        if (take is < 1 or > MaxPageSize) return CommandResults.Invalid("take", $"must be 1 to {MaxPageSize}");
        var (rows, total) = await queries.RunsAsync(statusFilter, kindFilter, skip ?? 0, take ?? 50, configuration, dataset, cancellationToken);
        return Results.Ok(new Page<RunSummary>(rows.Select(RunSummary.Of).ToList(), total, skip ?? 0, take ?? 50));
    }

    private static async Task<IResult> GetAsync(DashboardQueries queries, Guid id, CancellationToken cancellationToken)
    {
        if (await queries.RunAsync(id, cancellationToken) is not { } run) return CommandResults.NotFound($"There is no run {id}.");
        var checkpoints = await queries.CheckpointsAsync(id, cancellationToken);
        var evaluation = await queries.EvaluationAsync(id, cancellationToken);
        var version = run.DatasetVersionId is { } versionId ? await queries.DatasetVersionAsync(versionId, cancellationToken)
            : run.Kind == RunKind.Import ? await queries.ImportedVersionAsync(run.Id, cancellationToken) : null;
        return Results.Ok(new RunDetails(
            RunSummary.Of(run), Parse(run.ConfigurationJson), Parse(run.PlanJson), version?.Version, run.DatasetDigest ?? version?.Digest, run.ValidationDataset, run.Attempts, run.Worker, run.HeartbeatAt,
            run.CancelRequested, run.CancelReason, run.ModelVersionId, run.SourceRunId, run.SourceCheckpointStep,
            checkpoints.Select(c => new CheckpointInfo(c.Step, c.Epoch, c.Attempt, JsonSerializer.Deserialize<Dictionary<string, double>>(c.MetricsJson) ?? [], c.CreatedAt)).ToList(),
            evaluation is null ? null : new EvaluationInfo(evaluation.Dataset, evaluation.Split, evaluation.Images, evaluation.Loss, evaluation.Top1, evaluation.Top5,
                evaluation.ImagesPerSecond, Parse(evaluation.PerClassJson))));
    }

    private static async Task<IResult> MetricsAsync(HttpContext http, DashboardQueries queries, Guid id, string[]? name, string? format, CancellationToken cancellationToken)
    {
        if (await queries.RunAsync(id, cancellationToken) is null) return CommandResults.NotFound($"There is no run {id}.");
        bool csv = format is not null
            ? format.Equals("csv", StringComparison.OrdinalIgnoreCase)
            : http.Request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase);
        if (format is not null && !csv && !format.Equals("json", StringComparison.OrdinalIgnoreCase))
            return CommandResults.Invalid("format", $"'{format}' is not json or csv");
        var points = queries.MetricPointsAsync(id, name ?? [], cancellationToken);
        if (!csv) return Results.Ok(Values(points));
        return Results.Stream(async body =>
        {
            await using var writer = new StreamWriter(body);
            await writer.WriteLineAsync("name,step,epoch,time,value");
            await foreach (var p in points)
                await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{p.Name},{p.Step},{p.Epoch},{p.Time:O},{p.Value:R}"));
        }, "text/csv", $"{id}-metrics.csv");
    }

    private static async IAsyncEnumerable<MetricValue> Values(IAsyncEnumerable<MetricPoint> points)
    {
        await foreach (var p in points) yield return new MetricValue(p.Name, p.Step, p.Epoch, p.Time, p.Value);
    }

    private static async Task<IResult> EventsAsync(DashboardQueries queries, Guid id, long? after, int? take, CancellationToken cancellationToken)
    {
        if (take is < 1 or > MaxEvents) return CommandResults.Invalid("take", $"must be 1 to {MaxEvents}");
        if (await queries.RunAsync(id, cancellationToken) is null) return CommandResults.NotFound($"There is no run {id}.");
        var events = await queries.EventsAfterAsync(id, after ?? 0, take ?? MaxEvents, cancellationToken);
        return Results.Ok(events.Select(e => new RunEventInfo(e.Id, e.Time, RunEventKinds.Name(e.Kind), e.Level, e.Message, e.Attempt)).ToList());
    }

    private static async Task<IResult> SubmitTrainingAsync(WorkerCommands commands, TrainingRequest request) =>
        CommandResults.From(await commands.RequestAsync<SubmitTraining, RunQueued>(request.ToCommand()), Accepted);

    private static async Task<IResult> SubmitEvaluationAsync(WorkerCommands commands, EvaluationRequest request) =>
        CommandResults.From(await commands.RequestAsync<SubmitEvaluation, RunQueued>(request.ToCommand()), Accepted);

    private static async Task<IResult> CancelAsync(DashboardQueries queries, WorkerCommands commands, Guid id, RunCommandRequest? request, CancellationToken cancellationToken)
    {
        if (await queries.RunAsync(id, cancellationToken) is null) return CommandResults.NotFound($"There is no run {id}.");
        var command = new CancelRun(request?.CommandId ?? MassTransit.NewId.NextGuid(), id, request?.Reason ?? "cancelled through the API");
        if (await commands.CancelAsync(command) is { } problem)
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The cancel request was not sent", detail: problem);
        return Results.Accepted($"/api/v1/runs/{id}", new CancelAccepted(id, command.CommandId));
    }

    private static async Task<IResult> ResumeAsync(WorkerCommands commands, Guid id, RunCommandRequest? request) =>
        CommandResults.From(await commands.RequestAsync<ResumeRun, RunQueued>(new ResumeRun(request?.CommandId ?? MassTransit.NewId.NextGuid(), id)), Accepted);

    private static IResult Accepted(RunQueued queued) => Results.Accepted($"/api/v1/runs/{queued.RunId}", RunAccepted.Of(queued));

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
