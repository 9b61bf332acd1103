namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// At-least-once delivery means any command can arrive more than once, at the same moment: each must have exactly
/// one effect. Every command here is published three times concurrently with the same id.
/// </summary>
[Trait("Level", "processes")]
public sealed class DuplicateCommandTests : PhotoJobSystemTests
{
    private async Task PublishThriceAsync<T>(T command) where T : class =>
        await Task.WhenAll(system.Bus.Publish(command), system.Bus.Publish(command), system.Bus.Publish(command));

    [Fact]
    public async Task Evaluate_register_promote_cancel_and_resume_delivered_three_times_each_have_one_effect()
    {
        await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__TorchThreads"] = "2" });
        var training = PhotoRuns.Submit(steps: 6, checkpointEvery: 3);
        await PublishThriceAsync(training);
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == training.RunId && r.Status == RunStatus.Completed),
            TimeSpan.FromMinutes(3), "the training run");

        var evaluation = new SubmitEvaluation(NewId.NextGuid(), "photos", SourceRunId: training.RunId);
        await PublishThriceAsync(evaluation);
        await system.WaitForAsync(db => db.EvaluationResults.FirstOrDefaultAsync(r => r.RunId == evaluation.RunId), TimeSpan.FromMinutes(2), "the evaluation");

        var register = new RegisterModel(NewId.NextGuid(), "photos-model", training.RunId, CheckpointStep: 3);
        await PublishThriceAsync(register);
        await system.WaitForAsync(db => db.ModelVersions.FirstOrDefaultAsync(v => v.CommandId == register.CommandId), TimeSpan.FromSeconds(30), "the registration");
        var promote = new PromoteModel(NewId.NextGuid(), "photos-model", 1);
        await PublishThriceAsync(promote);
        await system.WaitForAsync(db => db.ModelVersions.FirstOrDefaultAsync(v => v.Name == "photos-model" && v.IsServing), TimeSpan.FromSeconds(30), "the promotion");

        var longRun = PhotoRuns.Submit(steps: 1_000_000, checkpointEvery: 2);
        await system.Bus.Publish(longRun);
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == longRun.RunId), TimeSpan.FromMinutes(2), "a checkpoint of the long run");
        var cancel = new CancelRun(NewId.NextGuid(), longRun.RunId);
        await PublishThriceAsync(cancel);
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == longRun.RunId && r.Status == RunStatus.Cancelled), TimeSpan.FromMinutes(1), "the cancellation");
        var resume = new ResumeRun(NewId.NextGuid(), longRun.RunId);
        await PublishThriceAsync(resume);
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == longRun.RunId && r.Attempts >= 2), TimeSpan.FromMinutes(1), "the resumed attempt");
        await system.Bus.Publish(new CancelRun(NewId.NextGuid(), longRun.RunId));
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == longRun.RunId && r.Status == RunStatus.Cancelled), TimeSpan.FromMinutes(1), "the second cancellation");
        await system.WaitUntilSettledAsync(["submit-training", "submit-evaluation", "register-model", "promote-model", "cancel-run", "resume-run"], async () =>
        {
            await using var counts = system.Db();
            return $"{await counts.Runs.CountAsync()} runs, {await counts.ProcessedCommands.CountAsync()} commands, {await counts.ModelVersions.CountAsync()} versions, " +
                   $"{await counts.RunEvents.CountAsync()} events, {system.EventsOf<RunCancelled>().Count()} cancelled";
        }, "every copy of every command");

        await using var check = system.Db();
        Assert.Equal(2, await check.Runs.CountAsync(r => r.Kind == RunKind.Training));
        Assert.Equal(1, await check.Runs.CountAsync(r => r.Kind == RunKind.Evaluation));
        Assert.Equal(1, await check.EvaluationResults.CountAsync());
        Assert.Equal(1, await check.ModelVersions.CountAsync());
        Assert.Equal(2, (await check.Runs.SingleAsync(r => r.Id == longRun.RunId)).Attempts);
        Assert.Equal(2, await check.RunEvents.CountAsync(e => e.RunId == longRun.RunId && e.Kind == RunEventKind.Cancelled));
        foreach (var id in new[] { training.RunId, evaluation.RunId, register.CommandId, promote.CommandId, cancel.CommandId, resume.CommandId })
            Assert.Equal(1, await check.ProcessedCommands.CountAsync(c => c.Id == id));
        Assert.Equal(2, system.EventsOf<RunCancelled>().Count(e => e.RunId == longRun.RunId));
        foreach (var queue in new[] { "submit-training", "submit-evaluation", "register-model", "promote-model", "cancel-run", "resume-run" })
            Assert.Equal(0, await system.QueueDepthAsync(queue + "_error"));
    }
}
