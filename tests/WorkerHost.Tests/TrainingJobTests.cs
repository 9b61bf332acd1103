namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Training and evaluation jobs through the real broker and database, with a real worker process.</summary>
[Trait("Level", "processes")]
public sealed class TrainingJobTests : PhotoJobSystemTests
{
    [SkippableFact]
    public async Task A_fashion_mnist_run_completes_with_metrics_a_checkpoint_and_RunCompleted_and_an_evaluation_records_top1_and_top5()
    {
        Skip.IfNot(system.AddFashionMnist(), "dataset-fashion-mnist is not installed");
        await system.StartWorkerAsync();
        var submit = new SubmitTraining(NewId.NextGuid(), "1.0-SqNxt-23-28px", "fashion-mnist", Settings: new TrainingSettings { MaxSteps = 40, BatchSize = 32, EvalMaxImages = 500, EvalEverySteps = 20, CheckpointEverySteps = 20 });

        var response = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(submit);

        Assert.True(response.Is(out Response<RunQueued>? queued), "the submission was rejected");
        Assert.False(queued!.Message.Duplicate);
        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status == RunStatus.Completed),
            TimeSpan.FromMinutes(5), "the training run's completion");
        Assert.Equal(40, run.Step);
        Assert.NotNull(run.LastTop1);
        await system.WaitForEventAsync<RunCompleted>(e => e.RunId == submit.RunId, TimeSpan.FromSeconds(30), "RunCompleted");
        Assert.Contains(system.EventsOf<RunStarted>(), e => e.RunId == submit.RunId);
        Assert.Contains(system.EventsOf<CheckpointSaved>(), e => e.RunId == submit.RunId && e.Step == 20);

        await using (var db = system.Db())
        {
            var losses = await db.MetricPoints.Where(m => m.RunId == submit.RunId && m.Name == "train_loss").OrderBy(m => m.Step).Select(m => m.Step).ToListAsync();
            Assert.Equal([10L, 20L, 30L, 40L], losses);
            Assert.Equal(2, await db.MetricPoints.CountAsync(m => m.RunId == submit.RunId && m.Name == "val_top1"));
            Assert.Equal([20L, 40L], await db.Checkpoints.Where(c => c.RunId == submit.RunId).OrderBy(c => c.Step).Select(c => c.Step).ToListAsync());
            Assert.Contains(await db.RunEvents.Where(e => e.RunId == submit.RunId).Select(e => e.Kind).ToListAsync(), k => k == RunEventKind.Completed);
        }

        var evaluation = new SubmitEvaluation(NewId.NextGuid(), "fashion-mnist", SourceRunId: submit.RunId, MaxImages: 400);
        var evaluationResponse = await system.Client<SubmitEvaluation>().GetResponse<RunQueued, CommandRejected>(evaluation);
        Assert.True(evaluationResponse.Is(out Response<RunQueued>? _), "the evaluation was rejected");
        var result = await system.WaitForAsync(db => db.EvaluationResults.FirstOrDefaultAsync(r => r.RunId == evaluation.RunId),
            TimeSpan.FromMinutes(2), "the evaluation result");
        Assert.Equal(400, result.Images);
        Assert.InRange(result.Top1, 0.1, 1.0);
        Assert.True(result.Top5 >= result.Top1);
        Assert.Contains("\"total\"", result.PerClassJson);
        await system.WaitForEventAsync<RunCompleted>(e => e.RunId == evaluation.RunId && e.Top5 is not null, TimeSpan.FromSeconds(30), "the evaluation's RunCompleted");
    }

    [Fact]
    public async Task The_same_SubmitTraining_delivered_twice_creates_one_run()
    {
        await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__RunJobs"] = "false" });
        var submit = PhotoRuns.Submit(steps: 4);

        await Task.WhenAll(system.Bus.Publish(submit), system.Bus.Publish(submit), system.Bus.Publish(submit));
        var again = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(submit);

        Assert.True(again.Is(out Response<RunQueued>? queued));
        // All four deliveries handled: one run, one recorded command, one published RunQueued, and the answer names that run.
        var settled = await system.WaitUntilSettledAsync(["submit-training"], async () =>
        {
            await using var db = system.Db();
            return $"{await db.Runs.CountAsync()} runs, {await db.ProcessedCommands.CountAsync(c => c.Id == submit.RunId)} commands, " +
                   $"{system.EventsOf<RunQueued>().Count(e => e.RunId == submit.RunId)} published";
        }, "the four deliveries");
        Assert.Equal("1 runs, 1 commands, 1 published", settled);
        Assert.Equal(submit.RunId, queued!.Message.RunId);
        Assert.False(system.EventsOf<RunQueued>().Single().Duplicate);
    }

    [Fact]
    public async Task Cancel_stops_a_run_within_one_batch_and_records_it_cancelled()
    {
        await system.StartWorkerAsync();
        var submit = PhotoRuns.Submit(steps: 10_000);
        await system.Bus.Publish(submit);
        await system.WaitForAsync(db => db.MetricPoints.FirstOrDefaultAsync(m => m.RunId == submit.RunId && m.Step >= 10),
            TimeSpan.FromMinutes(2), "ten training steps");

        await system.Bus.Publish(new CancelRun(NewId.NextGuid(), submit.RunId, "test"));

        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status == RunStatus.Cancelled),
            TimeSpan.FromMinutes(1), "the cancellation");
        await system.WaitForEventAsync<RunCancelled>(e => e.RunId == submit.RunId, TimeSpan.FromSeconds(30), "RunCancelled");
        await using var db = system.Db();
        var requested = await db.RunEvents.SingleAsync(e => e.RunId == submit.RunId && e.Kind == RunEventKind.CancelRequested);
        long stepAtCancel = long.Parse(System.Text.RegularExpressions.Regex.Match(requested.Message, @"at step (\d+)").Groups[1].Value);
        var stoppedAt = system.EventsOf<RunCancelled>().Single(e => e.RunId == submit.RunId).Step;
        Assert.InRange(stoppedAt - stepAtCancel, 0, 1);
        Assert.Equal(stoppedAt, run.Step);
        Assert.True(await db.Checkpoints.AnyAsync(c => c.RunId == submit.RunId && c.Step == stoppedAt), "no checkpoint at the step the run stopped");
        Assert.NotNull(run.FinishedAt);
    }

    [Fact]
    public async Task Invalid_commands_are_rejected_with_a_reason_recorded_and_never_redelivered()
    {
        await system.StartWorkerAsync();
        var cases = new (SubmitTraining Command, string Reason)[]
        {
            (new SubmitTraining(NewId.NextGuid(), "v_9_SqNxt_99", "photos"), "unknown configuration 'v_9_SqNxt_99'"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { Epochs = -5 }), "epochs: -5 is outside 1..10000"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { BatchSize = 1_000_000_000 }), "batchSize: 1000000000 is outside 1..65536"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "photos", Settings: new TrainingSettings { LearningRate = -0.1 }), "learningRate: -0.1 is outside 1E-09..100"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "../../etc"), "is not a folder name under the data root"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "/etc/passwd"), "is not a folder name under the data root"),
            (new SubmitTraining(NewId.NextGuid(), "v_1_0_SqNxt_23", "no-such-dataset"), "no dataset 'no-such-dataset'"),
        };

        foreach (var (command, reason) in cases)
        {
            var response = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(command);
            Assert.True(response.Is(out Response<CommandRejected>? rejected), $"{reason}: not rejected");
            Assert.Contains(reason, rejected!.Message.Reason);
        }

        await system.WaitUntilSettledAsync(["submit-training"], async () =>
        {
            await using var counts = system.Db();
            return $"{await counts.Runs.CountAsync()} runs, {await counts.ProcessedCommands.CountAsync()} commands, {system.EventsOf<CommandRejected>().Count()} rejected";
        }, "the rejections");
        await using var db = system.Db();
        Assert.Equal(0, await db.Runs.CountAsync());
        foreach (var (command, reason) in cases)
        {
            var recorded = await db.ProcessedCommands.SingleAsync(c => c.Id == command.RunId);
            Assert.Equal("rejected", recorded.Outcome);
            Assert.Contains(reason, recorded.Reason);
        }
        Assert.Equal(0, await system.QueueDepthWhenDrainedAsync("submit-training", TimeSpan.FromSeconds(15)));
        Assert.Equal(0, await system.QueueDepthAsync("submit-training_error"));
        Assert.Equal(cases.Length, system.EventsOf<CommandRejected>().Count());
    }
}
