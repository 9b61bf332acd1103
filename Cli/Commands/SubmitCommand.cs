using System.Net.Http.Headers;
using System.Text.Json;
using MassTransit;
using SqueezeNext.Cli.Remote;
using SqueezeNext.Contracts;
using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// <c>sqnxt submit train|eval|register|import</c>: new runs and model versions through the dashboard's API (after
/// <c>sqnxt login</c>). The ids are made here, so sending a command again after a lost answer changes nothing.
/// </summary>
public static class SubmitCommand
{
    public static Command Create() => new("submit", "Queue training and evaluation runs and register model versions through the dashboard's API (after 'sqnxt login').")
    {
        Train(), Evaluate(), Register(), Import(),
    };

    private static Command Train()
    {
        var remote = new RemoteOptions();
        var config = new Option<string>("--config", "-c") { Description = "Configuration name, or a JSON configuration file (sent whole).", DefaultValueFactory = _ => ConfigurationCatalog.DefaultName };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Dataset name under the workers' data root.", Required = true };
        var validation = new Option<string?>("--val-dataset") { Description = "Dataset to validate on." };
        var name = new Option<string?>("--name") { Description = "Display name of the run." };
        var runId = new Option<Guid?>("--run-id") { Description = "Id of the run (default: a new one); sending the same id again creates nothing new." };
        var settings = new RunSettingOptions();
        var command = new Command("train", "Queue a training run (operator).") { config, dataset, validation, name, runId };
        settings.AddTo(command);
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var configArgument = parse.GetValue(config)!;
            string? json = File.Exists(configArgument) ? await File.ReadAllTextAsync(configArgument) : null;
            var submission = settings.ApplyTo(new SubmitTraining(parse.GetValue(runId) ?? NewId.NextGuid(), configArgument, parse.GetValue(dataset)!, json,
                parse.GetValue(validation), parse.GetValue(name)), parse);
            using var api = remote.Connect(parse);
            return RunsCommand.Queued(await api.PostAsync<JsonElement>("api/v1/runs/training", submission), remote.WantsJson(parse));
        }));
        return command;
    }

    private static Command Evaluate()
    {
        var remote = new RemoteOptions();
        var dataset = new Option<string>("--dataset", "-d") { Description = "Dataset name under the workers' data root.", Required = true };
        var model = new Option<string?>("--model", "-m") { Description = "Registered model name." };
        var version = new Option<int?>("--version") { Description = "Model version (default: the serving one)." };
        var run = new Option<Guid?>("--run") { Description = "A training run whose model to evaluate (instead of --model)." };
        var step = new Option<long?>("--step") { Description = "With --run: the checkpoint step (default: the final model)." };
        var split = new Option<string>("--split") { Description = "val or train.", DefaultValueFactory = _ => "val" };
        split.AcceptOnlyFromAmong("val", "train");
        var maxImages = new Option<int?>("--max-images") { Description = "Evaluate on the first N images only." };
        var name = new Option<string?>("--name") { Description = "Display name of the run." };
        var runId = new Option<Guid?>("--run-id") { Description = "Id of the evaluation run (default: a new one); sending the same id again creates nothing new." };
        var command = new Command("eval", "Queue an evaluation run of a model version or a training run's model (operator).")
        {
            dataset, model, version, run, step, split, maxImages, name, runId,
        };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            if ((parse.GetValue(model) is null) == (parse.GetValue(run) is null)) throw new CliUsageException("give either --model or --run");
            var submission = new SubmitEvaluation(parse.GetValue(runId) ?? NewId.NextGuid(), parse.GetValue(dataset)!, parse.GetValue(model), parse.GetValue(version),
                parse.GetValue(run), parse.GetValue(step), parse.GetValue(split)!, parse.GetValue(maxImages), parse.GetValue(name));
            using var api = remote.Connect(parse);
            return RunsCommand.Queued(await api.PostAsync<JsonElement>("api/v1/runs/evaluation", submission), remote.WantsJson(parse));
        }));
        return command;
    }

    private static Command Register()
    {
        var remote = new RemoteOptions();
        var run = new Option<Guid>("--run") { Description = "Training run whose model to register.", Required = true };
        var name = new Option<string>("--name", "-n") { Description = "Model name.", Required = true };
        var step = new Option<long?>("--step") { Description = "Checkpoint step (default: the final model)." };
        var description = new Option<string?>("--description");
        var command = new Command("register", "Register a run's model as the next version of a model name (admin).") { run, name, step, description };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var registered = await api.PostAsync<JsonElement>($"api/v1/models/{Uri.EscapeDataString(parse.GetValue(name)!)}/versions",
                new { runId = parse.GetValue(run), checkpointStep = parse.GetValue(step), description = parse.GetValue(description), commandId = NewId.NextGuid() });
            return Registered(registered, remote.WantsJson(parse));
        }));
        return command;
    }

    private static Command Import()
    {
        var remote = new RemoteOptions();
        var file = new Argument<string>("file") { Description = "Weights file: a PyTorch state dict (.pth/.pt, e.g. pytorchcv's pretrained weights) or a safetensors file." };
        var name = new Option<string>("--name", "-n") { Description = "Model name.", Required = true };
        var config = new Option<string?>("--config", "-c") { Description = "Configuration the weights belong to (required for a state dict: sqnxt23_w1 ... sqnxt23v5_w2 for pytorchcv's)." };
        var format = new Option<string?>("--format") { Description = "pytorch or safetensors (default: from the extension)." };
        format.AcceptOnlyFromAmong("pytorch", "safetensors");
        var description = new Option<string?>("--description");
        var command = new Command("import", "Upload a weights file as the next version of a model name; a worker checks every tensor (admin).")
        {
            file, name, config, format, description,
        };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
            using var form = new MultipartFormDataContent();
            var weights = new StreamContent(File.OpenRead(path));
            weights.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(weights, "file", Path.GetFileName(path));
            form.Add(new StringContent(parse.GetValue(format) ?? (ModelImport.FormatOf(path) == WeightsFormat.Pytorch ? "pytorch" : "safetensors")), "format");
            if (parse.GetValue(config) is { } configuration) form.Add(new StringContent(configuration), "configuration");
            if (parse.GetValue(description) is { } text) form.Add(new StringContent(text), "description");
            form.Add(new StringContent(NewId.NextGuid().ToString()), "commandId");
            using var api = remote.Connect(parse);
            return Registered(await api.PostAsync<JsonElement>($"api/v1/models/{Uri.EscapeDataString(parse.GetValue(name)!)}/versions/import", form),
                remote.WantsJson(parse));
        }));
        return command;
    }

    private static int Registered(JsonElement registered, bool json)
    {
        if (json) CliJson.Write(registered);
        else Console.Out.WriteLine($"registered {RunsCommand.Text(registered, "name")} v{RunsCommand.Text(registered, "version")}");
        return 0;
    }
}
