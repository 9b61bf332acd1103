using System.Diagnostics;
using TorchSharp;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Training;
using SqueezeNext.WorkerHost.Options;
using SqueezeNext.WorkerHost.Telemetry;
using EvaluationRow = SqueezeNext.Persistence.Entities.EvaluationResult;

namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Claims queued runs one at a time and executes them on a dedicated thread, while this loop writes heartbeats,
/// flushes metrics and notices cancellation. A run interrupted by shutdown goes back to the queue and resumes from its
/// newest checkpoint on whichever worker claims it next.
/// </summary>
public sealed class JobRunner(
    IServiceScopeFactory scopes,
    IOptions<WorkerOptions> options,
    JobPlanner planner,
    JobSignal signal,
    RunningJobs running,
    WorkerIdentity identity,
    WorkerMetrics metrics,
    IBus bus,
    ILogger<JobRunner> logger) : BackgroundService
{
    private static readonly RunKind[] Kinds = [RunKind.Training, RunKind.Evaluation];
    private readonly WorkerOptions settings = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!settings.RunJobs) return;
        logger.LogInformation("Job runner {Worker} started", identity.Name);
        while (!stoppingToken.IsCancellationRequested)
        {
            Run? run = null;
            try
            {
                using var scope = scopes.CreateScope();
                run = await new RunStore(scope.ServiceProvider.GetRequiredService<JobsDbContext>()).ClaimNextAsync(identity.Name, Kinds, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Could not claim a run; retrying");
            }
            if (run is null)
            {
                try
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            await ExecuteAsync(run, stoppingToken);
        }
    }

    private async Task ExecuteAsync(Run run, CancellationToken stoppingToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["RunId"] = run.Id });
        logger.LogInformation("Claimed {Kind} run {RunId} (attempt {Attempt})", run.Kind, run.Id, run.Attempts);
        metrics.RecordQueueTime(run);
        var job = running.Start(run.Id, stoppingToken);
        var recorder = new RunRecorder(run.Id, scopes, bus);
        job.CurrentStep = () => recorder.Progress?.Step ?? run.Step;
        var clock = Stopwatch.StartNew();
        try
        {
            await bus.Publish(new RunStarted(run.Id, identity.Name, run.Attempts, run.Step, DateTimeOffset.UtcNow), CancellationToken.None);
            var work = run.Kind == RunKind.Training
                ? TorchThread.RunAsync($"train-{run.Id:N}", () => (object)new Trainer(planner.TrainingOptionsFor(run), recorder).Run(job.Token))
                : TorchThread.RunAsync($"evaluate-{run.Id:N}", () => (object)Evaluate(run, recorder, job.Token));
            await SuperviseAsync(run, job, recorder, work);

            object? outcome = null;
            Exception? failure = null;
            try
            {
                outcome = await work;
            }
            catch (Exception e)
            {
                failure = e;
            }
            await FlushQuietlyAsync(recorder);
            await FinishAsync(run, job, outcome, failure, recorder, clock.Elapsed);
        }
        finally
        {
            metrics.SetTrainingThroughput(0);
            running.Finish(run.Id);
        }
    }

    /// <summary>Heartbeats and flushes until the job ends; stops the job when it is cancelled or its claim is lost.</summary>
    private async Task SuperviseAsync(Run run, RunningJob job, RunRecorder recorder, Task work)
    {
        var lastHeartbeat = Stopwatch.StartNew();
        var interval = settings.FlushInterval < settings.HeartbeatInterval ? settings.FlushInterval : settings.HeartbeatInterval;
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(interval));
            await FlushQuietlyAsync(recorder);
            if (run.Kind == RunKind.Training) metrics.SetTrainingThroughput(recorder.Progress?.ImagesPerSecond ?? 0);
            if (lastHeartbeat.Elapsed < settings.HeartbeatInterval && !work.IsCompleted) continue;
            lastHeartbeat.Restart();
            try
            {
                using var scope = scopes.CreateScope();
                var cancel = await new RunStore(scope.ServiceProvider.GetRequiredService<JobsDbContext>())
                    .HeartbeatAsync(run.Id, identity.Name, recorder.Progress, CancellationToken.None);
                if (cancel is null) job.Stop(StopReason.LostClaim);
                else if (cancel.Value) job.Stop(StopReason.Cancelled);
            }
            catch (Exception e)
            {
                // The database may be restarting; the run goes on and the next heartbeat tries again.
                logger.LogWarning(e, "Heartbeat of run {RunId} failed", run.Id);
            }
        }
    }

    private async Task FinishAsync(Run run, RunningJob job, object? outcome, Exception? failure, RunRecorder recorder, TimeSpan elapsed)
    {
        if (job.Reason == StopReason.LostClaim)
        {
            logger.LogWarning("Run {RunId} was taken over by another worker; this worker stopped without recording", run.Id);
            return;
        }

        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var store = new RunStore(db);
        var now = DateTimeOffset.UtcNow;
        var progress = recorder.Progress;
        long step = progress?.Step ?? run.Step;
        await store.HeartbeatAsync(run.Id, identity.Name, progress, CancellationToken.None);

        if (failure is not null)
        {
            string reason = Describe(failure);
            logger.LogError(failure, "Run {RunId} failed: {Reason}", run.Id, reason);
            await AddEventAsync(db, run.Id, "failed", reason, "error");
            if (await store.FinishAsync(run.Id, identity.Name, RunStatus.Failed, reason, CancellationToken.None))
                await bus.Publish(new RunFailed(run.Id, reason, step, now));
            return;
        }

        bool stopped = outcome is TrainingResult { Outcome: TrainingOutcome.Cancelled } || outcome is null;
        if (stopped && job.Reason == StopReason.Shutdown)
        {
            await AddEventAsync(db, run.Id, "released", $"worker {identity.Name} shut down at step {step}; the run is queued to resume", "warning");
            await store.ReleaseAsync(run.Id, identity.Name, CancellationToken.None);
            return;
        }
        if (stopped)
        {
            var reason = await db.Runs.Where(r => r.Id == run.Id).Select(r => r.CancelReason).FirstOrDefaultAsync();
            if (await store.FinishAsync(run.Id, identity.Name, RunStatus.Cancelled, null, CancellationToken.None))
                await bus.Publish(new RunCancelled(run.Id, step, reason, now));
            return;
        }

        double? top1 = null, top5 = null, best = recorder.BestTop1;
        if (outcome is TrainingResult training)
        {
            top1 = training.LastEvaluation?.Top1;
            top5 = training.LastEvaluation?.Top5;
            best = training.BestTop1;
        }
        else if (outcome is Vision.Evaluation.EvaluationResult evaluation)
        {
            top1 = evaluation.Top1;
            top5 = evaluation.Top5;
            await SaveEvaluationAsync(db, run, evaluation);
        }
        await db.Runs.Where(r => r.Id == run.Id).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.LastTop1, top1)
            .SetProperty(r => r.LastTop5, top5)
            .SetProperty(r => r.BestTop1, best));
        if (await store.FinishAsync(run.Id, identity.Name, RunStatus.Completed, null, CancellationToken.None))
            await bus.Publish(new RunCompleted(run.Id, run.Kind.ToString().ToLowerInvariant(), step, top1, top5, best, elapsed.TotalSeconds, now));
        logger.LogInformation("Run {RunId} completed in {Seconds:F1} s", run.Id, elapsed.TotalSeconds);
    }

    private Vision.Evaluation.EvaluationResult Evaluate(Run run, RunRecorder recorder, CancellationToken cancellationToken)
    {
        var command = JsonSerializer.Deserialize<SubmitEvaluation>(run.RequestJson, JobPlanner.Json)!;
        using var model = ModelArtifact.Load(run.OutputDirectory!);
        var dataset = DatasetReader.Open(planner.ResolveDataset(run.Dataset),
            command.Split == "train" ? DatasetSplit.Train : DatasetSplit.Validation, LabelSpace.ClassOrderOf(model.Manifest));
        if (dataset.Classes.Count != model.Configuration.Architecture.NumClasses)
            throw new DatasetException($"{dataset.Description} has {dataset.Classes.Count} classes but the model has {model.Configuration.Architecture.NumClasses} outputs");
        var device = DeviceSelector.Resolve(settings.Device);
        model.Network.to(device);
        var loader = new BatchLoader(dataset, ImagePreprocessor.For(model.Configuration), new LoaderOptions
        {
            BatchSize = 64, Threads = settings.LoaderThreads,
        });
        long total = Math.Min(dataset.Count, command.MaxImages ?? int.MaxValue);
        var started = DateTimeOffset.UtcNow;
        return Evaluator.Evaluate(model.Network, loader, device, command.MaxImages,
            done => recorder.OnProgress(new TrainingProgress(done, total, 0, double.NaN, 0, done / Math.Max(1e-3, (DateTimeOffset.UtcNow - started).TotalSeconds),
                DateTimeOffset.UtcNow - started, null)),
            cancellationToken);
    }

    private static async Task SaveEvaluationAsync(JobsDbContext db, Run run, Vision.Evaluation.EvaluationResult evaluation)
    {
        var command = JsonSerializer.Deserialize<SubmitEvaluation>(run.RequestJson, JobPlanner.Json)!;
        db.EvaluationResults.Add(new EvaluationRow
        {
            RunId = run.Id,
            ModelVersionId = run.ModelVersionId,
            Dataset = run.Dataset,
            Split = command.Split,
            Images = evaluation.Images,
            Loss = double.IsFinite(evaluation.Loss) ? evaluation.Loss : null,
            Top1 = evaluation.Top1,
            Top5 = evaluation.Top5,
            ImagesPerSecond = evaluation.ImagesPerSecond,
            PerClassJson = JsonSerializer.Serialize(evaluation.PerClass.Select(c => new { c.Index, c.Name, c.Correct, c.Total }), JobPlanner.Json),
            CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
    }

    private static async Task AddEventAsync(JobsDbContext db, Guid runId, string kind, string message, string level)
    {
        db.RunEvents.Add(new Persistence.Entities.RunEvent { RunId = runId, Time = DateTimeOffset.UtcNow, Kind = kind, Level = level, Message = message });
        await db.SaveChangesAsync();
    }

    private async Task FlushQuietlyAsync(RunRecorder recorder)
    {
        try
        {
            await recorder.FlushAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not write a run's metrics; they are kept for the next flush");
        }
    }

    /// <summary>What a user reads in the run's error: the message for expected failures, type and message otherwise.</summary>
    private static string Describe(Exception failure) => failure switch
    {
        DatasetException or TrainingDivergedException or ArtifactException or ImageDecodeException
            or Vision.Model.InvalidConfigurationException or ArgumentException => failure.Message,
        _ => $"{failure.GetType().Name}: {failure.Message}",
    };
}
