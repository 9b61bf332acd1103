using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt bus train|eval|cancel|resume</c>: runs on the workers.</summary>
public static class BusRunCommands
{
    public static Command Train()
    {
        var broker = new Broker();
        var config = new Option<string>("--config", "-c") { Description = "Configuration name, or a JSON configuration file (sent whole).", DefaultValueFactory = _ => ConfigurationCatalog.DefaultName };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Dataset name under the worker's data root.", Required = true };
        var validation = new Option<string?>("--val-dataset") { Description = "Dataset to validate on." };
        var name = new Option<string?>("--name") { Description = "Display name of the run." };
        var runId = new Option<Guid?>("--run-id") { Description = "Id of the run (default: a new one); resending the same id creates nothing new." };
        var settings = new RunSettingOptions();
        var command = new Command("train", "Queue a training run.")
        {
            config, dataset, validation, name, runId,
        };
        settings.AddTo(command);
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var configArgument = parse.GetValue(config)!;
            string? json = File.Exists(configArgument) ? await File.ReadAllTextAsync(configArgument) : null;
            var message = settings.ApplyTo(new SubmitTraining(parse.GetValue(runId) ?? NewId.NextGuid(), configArgument, parse.GetValue(dataset)!, json,
                parse.GetValue(validation), parse.GetValue(name)), parse);
            await using var bus = await broker.ConnectAsync(parse);
            return Queued(await bus.RequestAsync<SubmitTraining, RunQueued>(message));
        }));
        return command;
    }

    public static Command Evaluate()
    {
        var broker = new Broker();
        var dataset = new Option<string>("--dataset", "-d") { Description = "Dataset name under the worker's data root.", Required = true };
        var model = new Option<string?>("--model", "-m") { Description = "Registered model name." };
        var version = new Option<int?>("--version") { Description = "Model version (default: the serving one)." };
        var run = new Option<Guid?>("--run") { Description = "A training run whose model to evaluate (instead of --model)." };
        var step = new Option<long?>("--step") { Description = "With --run: the checkpoint step (default: the final model)." };
        var split = new Option<string>("--split") { Description = "val or train.", DefaultValueFactory = _ => "val" };
        var maxImages = new Option<int?>("--max-images");
        var command = new Command("eval", "Queue an evaluation run.") { dataset, model, version, run, step, split, maxImages };
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = new SubmitEvaluation(NewId.NextGuid(), parse.GetValue(dataset)!, parse.GetValue(model), parse.GetValue(version),
                parse.GetValue(run), parse.GetValue(step), parse.GetValue(split)!, parse.GetValue(maxImages));
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
