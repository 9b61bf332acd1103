using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt bus train|eval|cancel|resume</c>: runs on the workers.</summary>
public static class BusRunCommands
{
    public static Command Train()
    {
        var broker = new Broker();
        var submission = new TrainingSubmissionOptions();
        var command = new Command("train", "Queue a training run.");
        submission.AddTo(command);
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = await submission.ReadAsync(parse);
            await using var bus = await broker.ConnectAsync(parse);
            return Queued(await bus.RequestAsync<SubmitTraining, RunQueued>(message));
        }));
        return command;
    }

    public static Command Evaluate()
    {
        var broker = new Broker();
        var submission = new EvaluationSubmissionOptions();
        var command = new Command("eval", "Queue an evaluation run.");
        submission.AddTo(command);
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = submission.Read(parse);
            await using var bus = await broker.ConnectAsync(parse);
            return Queued(await bus.RequestAsync<SubmitEvaluation, RunQueued>(message));
        }));
        return command;
    }

    public static Command Cancel()
    {
        var broker = new Broker();
        var runId = new Argument<Guid>("run") { Description = "The run to cancel." };
        var reason = new Option<string?>("--reason");
        var command = new Command("cancel", "Cancel a queued or running run (a running one checkpoints first).") { runId, reason };
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            await bus.Bus.Publish(new CancelRun(NewId.NextGuid(), parse.GetValue(runId), parse.GetValue(reason)));
            Console.Out.WriteLine($"cancel of run {parse.GetValue(runId)} sent");
            return 0;
        }));
        return command;
    }

    public static Command Resume()
    {
        var broker = new Broker();
        var runId = new Argument<Guid>("run") { Description = "The cancelled or failed training run to resume." };
        var command = new Command("resume", "Queue a cancelled or failed training run again; it continues from its newest checkpoint.") { runId };
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            return Queued(await bus.RequestAsync<ResumeRun, RunQueued>(new ResumeRun(NewId.NextGuid(), parse.GetValue(runId))));
        }));
        return command;
    }

    private static int Queued(RunQueued run)
    {
        Console.Out.WriteLine(run.Duplicate ? $"run {run.RunId} already exists" : $"queued {run.Kind} run {run.RunId}");
        return 0;
    }
}
