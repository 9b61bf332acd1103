using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Runs;
using SqueezeNext.WorkerHost.Consumers;
using SqueezeNext.WorkerHost.Datasets;
using SqueezeNext.WorkerHost.Jobs;
using SqueezeNext.WorkerHost.Options;

namespace SqueezeNext.WorkerHost.Tests.Consumers;

/// <summary>
/// The command consumers and the planner in process, on MassTransit's test harness and the real PostgreSQL: what each
/// command answers, what it records, and that a duplicate is answered before any planning. No broker, no worker process.
/// </summary>
[Trait("Level", "in-process")]
public sealed class CommandConsumerTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private ServiceProvider provider = null!;
    private ITestHarness harness = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        system.AddPhotos();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<JobsDbContext>(options => options.UseNpgsql(system.ConnectionString));
        services.AddRunLifecycle();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new WorkerOptions { DataRoot = system.DataRoot, ArtifactRoot = system.ArtifactRoot }));
        services.AddSingleton<DataRoot>();
        services.AddSingleton<JobPlanner>();
        services.AddSingleton<JobSignal>();
        services.AddSingleton<RunningJobs>();
        services.AddSingleton<SqueezeNext.WorkerHost.Telemetry.WorkerMetrics>();
        services.AddMassTransitTestHarness(bus =>
        {
            bus.AddConsumer<SubmitTrainingConsumer>();
            bus.AddConsumer<CancelRunConsumer>();
            bus.AddConsumer<ResumeRunConsumer>();
            bus.AddConsumer<SubmitEvaluationConsumer>();
            bus.AddConsumer<RegisterModelConsumer>();
            bus.AddConsumer<PromoteModelConsumer>();
        });
        provider = services.BuildServiceProvider(validateScopes: true);
        await using (var scope = provider.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<JobsDbContext>().Database.MigrateAsync();
        harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
    }

    public async Task DisposeAsync()
    {
        await harness.Stop();
        await provider.DisposeAsync();
        await system.DisposeAsync();
    }

    private static SubmitTraining Training(Guid runId, int? batchSize = 8) =>
        new(runId, "1.0-SqNxt-23-28px", "photos", Settings: new TrainingSettings { MaxSteps = 4, BatchSize = batchSize, CheckpointEverySteps = 2 });

    private async Task<Response<RunQueued, CommandRejected>> SendAsync<T>(T command) where T : class =>
        await harness.GetRequestClient<T>().GetResponse<RunQueued, CommandRejected>(command);

    private async Task<string> RejectionAsync<T, TAccepted>(T command) where T : class where TAccepted : class
    {
        var answer = await harness.GetRequestClient<T>().GetResponse<TAccepted, CommandRejected>(command);
        Assert.True(answer.Is(out Response<CommandRejected>? rejected), $"{typeof(T).Name} was accepted");
        return rejected!.Message.Reason;
    }

    [Fact]
    public async Task A_training_command_is_planned_once_and_a_duplicate_is_answered_with_the_same_run()
    {
        var runId = NewId.NextGuid();

        var first = await SendAsync(Training(runId));
        var second = await SendAsync(Training(runId, batchSize: 0));

        Assert.True(first.Is(out Response<RunQueued>? queued));
        Assert.False(queued!.Message.Duplicate);
        // The duplicate carries an invalid batch size: answered from the stored run, it is never planned or checked.
        Assert.True(second.Is(out Response<RunQueued>? repeated));
        Assert.True(repeated!.Message.Duplicate);
        Assert.True(await harness.Published.Any<RunQueued>(m => m.Context.Message.RunId == runId));
        await using var db = system.Db();
        var run = await db.Runs.SingleAsync(r => r.Id == runId);
        Assert.Equal(RunStatus.Queued, run.Status);
        Assert.Contains("\"batchSize\":8", run.PlanJson.Replace(" ", ""));
        Assert.Equal(1, await db.ProcessedCommands.CountAsync(c => c.Id == runId));
    }

    [Fact]
    public async Task An_invalid_training_command_is_rejected_naming_every_problem_and_recorded()
    {
        var runId = NewId.NextGuid();

        var command = Training(runId, batchSize: 0);
        var answer = await SendAsync(command with { Settings = command.Settings! with { LearningRate = -1 } });

        Assert.True(answer.Is(out Response<CommandRejected>? rejected));
        Assert.Contains("batchSize", rejected!.Message.Reason);
        Assert.True(rejected.Message.Reason.Contains("learningRate", StringComparison.OrdinalIgnoreCase), rejected.Message.Reason);
        await using var db = system.Db();
        Assert.False(await db.Runs.AnyAsync(r => r.Id == runId));
        Assert.Equal(1, await db.ProcessedCommands.CountAsync(c => c.Id == runId));
    }

    [Fact]
    public async Task A_queued_run_is_cancelled_at_once_and_resumed_on_request_but_a_queued_one_is_not_resumed()
    {
        var runId = NewId.NextGuid();
        await SendAsync(Training(runId));

        var notResumable = await SendAsync(new ResumeRun(NewId.NextGuid(), runId));
        await harness.Bus.Publish(new CancelRun(NewId.NextGuid(), runId, "changed my mind"));
        Assert.True(await harness.Consumed.Any<CancelRun>(m => m.Context.Message.RunId == runId));
        Assert.True(await harness.Published.Any<RunCancelled>(m => m.Context.Message.RunId == runId));
        var resumed = await SendAsync(new ResumeRun(NewId.NextGuid(), runId));

        Assert.True(notResumable.Is(out Response<CommandRejected>? refused));
        Assert.Contains("is queued; only cancelled or failed runs resume", refused!.Message.Reason);
        Assert.True(resumed.Is(out Response<RunQueued>? _));
        await using var db = system.Db();
        var run = await db.Runs.SingleAsync(r => r.Id == runId);
        Assert.Equal((RunStatus.Queued, false, (string?)null), (run.Status, run.CancelRequested, run.CancelReason));
        var events = await db.RunEvents.Where(e => e.RunId == runId).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
        Assert.Equal([RunEventKind.Queued, RunEventKind.CancelRequested, RunEventKind.ResumeRequested], events);
    }

    [Fact]
    public async Task Evaluation_and_model_commands_that_name_something_unusable_are_rejected_saying_what_and_write_nothing()
    {
        var trainingRun = NewId.NextGuid();
        await SendAsync(Training(trainingRun));
        var evaluationRun = NewId.NextGuid();
        var commands = new[] { evaluationRun, NewId.NextGuid(), NewId.NextGuid(), NewId.NextGuid() };

        var evaluation = await RejectionAsync<SubmitEvaluation, RunQueued>(new SubmitEvaluation(evaluationRun, "photos", SourceRunId: trainingRun));
        var badName = await RejectionAsync<RegisterModel, ModelRegistered>(new RegisterModel(commands[1], "no spaces allowed", trainingRun));
        var unfinished = await RejectionAsync<RegisterModel, ModelRegistered>(new RegisterModel(commands[2], "mine", trainingRun));
        var promote = await RejectionAsync<PromoteModel, ModelPromoted>(new PromoteModel(commands[3], "mine", 3));

        Assert.Contains($"run {trainingRun} is queued", evaluation);
        Assert.Contains("modelName: 'no spaces allowed' must be 1 to 100 letters", badName);
        Assert.Contains($"run {trainingRun} is queued, so it has no final model", unfinished);
        Assert.Equal("model 'mine' has no version 3", promote);
        await using var db = system.Db();
        Assert.False(await db.Runs.AnyAsync(r => r.Id == evaluationRun));
        Assert.False(await db.ModelVersions.AnyAsync());
        Assert.Equal(commands.Length, await db.ProcessedCommands.CountAsync(c => commands.Contains(c.Id) && c.Outcome == "rejected"));
    }
}
