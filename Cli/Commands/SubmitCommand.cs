using System.CommandLine;
using MassTransit;
using SqueezeNext.Cli.Output;
using SqueezeNext.Contracts;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt submit ...</c>: send jobs and commands to the workers through RabbitMQ and print their answers.</summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var command = new Command("submit", "Send jobs and commands to the workers through RabbitMQ.");
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Evaluate());
        command.Subcommands.Add(Classify());
        command.Subcommands.Add(Cancel());
        command.Subcommands.Add(Resume());
        command.Subcommands.Add(Register());
        command.Subcommands.Add(Import());
        command.Subcommands.Add(Promote());
        return command;
    }

    private static Command Train()
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
        command.SetAction(parse => Run(async () =>
        {
            var configArgument = parse.GetValue(config)!;
            string? json = File.Exists(configArgument) ? await File.ReadAllTextAsync(configArgument) : null;
            var message = settings.ApplyTo(new SubmitTraining(parse.GetValue(runId) ?? NewId.NextGuid(), configArgument, parse.GetValue(dataset)!, json,
                parse.GetValue(validation), parse.GetValue(name)), parse);
            await using var bus = await broker.ConnectAsync(parse);
            return Answer(await bus.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(message));
        }));
        return command;
    }

    private static Command Evaluate()
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
        command.SetAction(parse => Run(async () =>
        {
            var message = new SubmitEvaluation(NewId.NextGuid(), parse.GetValue(dataset)!, parse.GetValue(model), parse.GetValue(version),
                parse.GetValue(run), parse.GetValue(step), parse.GetValue(split)!, parse.GetValue(maxImages));
            await using var bus = await broker.ConnectAsync(parse);
            return Answer(await bus.Client<SubmitEvaluation>().GetResponse<RunQueued, CommandRejected>(message));
        }));
        return command;
    }

    private static Command Classify()
    {
        var broker = new Broker();
        var image = new Argument<string>("image") { Description = "Image file to classify." };
        var model = new Option<string?>("--model", "-m") { Description = "Model name (default: the worker's default model)." };
        var version = new Option<int?>("--version") { Description = "Model version (default: the serving one)." };
        var top = new Option<int>("--top", "-k") { Description = "How many labels.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the answer as JSON." };
        var command = new Command("classify", "Classify an image on a worker and print its top labels.") { image, model, version, top, json };
        broker.AddTo(command);
        command.SetAction(parse => Run(async () =>
        {
            var path = parse.GetValue(image)!;
            if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
            var message = new ClassifyImage(NewId.NextGuid(), await File.ReadAllBytesAsync(path), parse.GetValue(top), parse.GetValue(model), parse.GetValue(version));
            await using var bus = await broker.ConnectAsync(parse);
            // Sent non-persistent: an answer someone waits for cannot outlive the broker anyway (docs/messages.md).
            var response = await bus.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(message, x => x.UseExecute(c => c.Durable = false));
            if (response.Is(out Response<ClassificationRejected>? rejected))
                throw new CliUsageException($"'{path}' was rejected: {rejected!.Message.Reason}");
            response.Is(out Response<ImageClassified>? classified);
            var answer = classified!.Message;
            if (parse.GetValue(json))
            {
                CliJson.Write(answer);
                return 0;
            }
            Console.Out.WriteLine($"{path} ({answer.ModelName} v{answer.ModelVersion}, batch of {answer.BatchSize}, {answer.InferenceMilliseconds:F0} ms)");
            int rank = 1;
            foreach (var p in answer.Predictions)
                Console.Out.WriteLine($"  {rank++}. {p.Probability,7:P2}  {p.FullName}" + (p.Synset is null ? "" : $" ({p.Synset}, {p.Index})"));
            return 0;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var broker = new Broker();
        var runId = new Argument<Guid>("run") { Description = "The run to cancel." };
        var reason = new Option<string?>("--reason");
        var command = new Command("cancel", "Cancel a queued or running run (a running one checkpoints first).") { runId, reason };
        broker.AddTo(command);
        command.SetAction(parse => Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            await bus.Bus.Publish(new CancelRun(NewId.NextGuid(), parse.GetValue(runId), parse.GetValue(reason)));
            Console.Out.WriteLine($"cancel of run {parse.GetValue(runId)} sent");
            return 0;
        }));
        return command;
    }

    private static Command Resume()
    {
        var broker = new Broker();
        var runId = new Argument<Guid>("run") { Description = "The cancelled or failed training run to resume." };
        var command = new Command("resume", "Queue a cancelled or failed training run again; it continues from its newest checkpoint.") { runId };
        broker.AddTo(command);
        command.SetAction(parse => Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            return Answer(await bus.Client<ResumeRun>().GetResponse<RunQueued, CommandRejected>(new ResumeRun(NewId.NextGuid(), parse.GetValue(runId))));
        }));
        return command;
    }

    private static Command Register()
    {
        var broker = new Broker();
        var run = new Option<Guid>("--run") { Description = "Training run whose model to register.", Required = true };
        var name = new Option<string>("--name", "-n") { Description = "Model name.", Required = true };
        var step = new Option<long?>("--step") { Description = "Checkpoint step (default: the final model)." };
        var description = new Option<string?>("--description");
        var command = new Command("register", "Register a run's model as the next version of a model name.") { run, name, step, description };
        broker.AddTo(command);
        command.SetAction(parse => Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            var response = await bus.Client<RegisterModel>().GetResponse<ModelRegistered, CommandRejected>(
                new RegisterModel(NewId.NextGuid(), parse.GetValue(name)!, parse.GetValue(run), parse.GetValue(step), parse.GetValue(description)));
            if (response.Is(out Response<CommandRejected>? rejected)) throw new CliUsageException(rejected!.Message.Reason);
            response.Is(out Response<ModelRegistered>? registered);
            Console.Out.WriteLine($"registered {registered!.Message.ModelName} v{registered.Message.Version}");
            return 0;
        }));
        return command;
    }

    private static Command Import()
    {
        var broker = new Broker();
        var file = new Argument<string>("file") { Description = "Weights file: a PyTorch state dict (.pth/.pt, e.g. pytorchcv's pretrained weights) or a safetensors file." };
        var name = new Option<string>("--name", "-n") { Description = "Model name.", Required = true };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration the weights belong to (required for a state dict: sqnxt23_w1 ... sqnxt23v5_w2 for pytorchcv's)." };
        var format = new Option<string?>("--format") { Description = "pytorch or safetensors (default: from the extension)." };
        format.AcceptOnlyFromAmong("pytorch", "safetensors");
        var description = new Option<string?>("--description");
        var command = new Command("import", "Register a weights file as the next version of a model name; the worker checks every tensor.") { file, name, config, format, description };
        broker.AddTo(command);
        command.SetAction(parse => Run(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
            var weightsFormat = parse.GetValue(format) ?? (ModelArtifact.FormatOf(path) == WeightsFormat.Pytorch ? "pytorch" : "safetensors");
            await using var bus = await broker.ConnectAsync(parse);
            var response = await bus.Client<ImportModel>().GetResponse<ModelRegistered, CommandRejected>(new ImportModel(NewId.NextGuid(),
                parse.GetValue(name)!, Path.GetFileName(path), weightsFormat, await File.ReadAllBytesAsync(path), parse.GetValue(config), parse.GetValue(description)));
            if (response.Is(out Response<CommandRejected>? rejected)) throw new CliUsageException(rejected!.Message.Reason);
            response.Is(out Response<ModelRegistered>? registered);
            Console.Out.WriteLine($"registered {registered!.Message.ModelName} v{registered.Message.Version}");
            return 0;
        }));
        return command;
    }

    private static Command Promote()
    {
        var broker = new Broker();
        var name = new Option<string>("--name", "-n") { Description = "Model name.", Required = true };
        var version = new Option<int>("--version") { Description = "Version to serve.", Required = true };
        var command = new Command("promote", "Make a model version the serving version of its name.") { name, version };
        broker.AddTo(command);
        command.SetAction(parse => Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            var response = await bus.Client<PromoteModel>().GetResponse<ModelPromoted, CommandRejected>(
                new PromoteModel(NewId.NextGuid(), parse.GetValue(name)!, parse.GetValue(version)));
            if (response.Is(out Response<CommandRejected>? rejected)) throw new CliUsageException(rejected!.Message.Reason);
            Console.Out.WriteLine($"{parse.GetValue(name)} v{parse.GetValue(version)} is serving");
            return 0;
        }));
        return command;
    }

    private static int Answer(Response<RunQueued, CommandRejected> response)
    {
        if (response.Is(out Response<CommandRejected>? rejected))
            throw new CliUsageException($"rejected: {rejected!.Message.Reason}");
        response.Is(out Response<RunQueued>? queued);
        var run = queued!.Message;
        Console.Out.WriteLine(run.Duplicate ? $"run {run.RunId} already exists" : $"queued {run.Kind} run {run.RunId}");
        return 0;
    }

    private static int Run(Func<Task<int>> action) => CliErrors.Run(() =>
    {
        try
        {
            return action().GetAwaiter().GetResult();
        }
        catch (RequestTimeoutException)
        {
            throw new CliUsageException("no worker answered in time (is a worker running and connected to this broker?)");
        }
    });
}
