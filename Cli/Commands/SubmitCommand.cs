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
        var submission = new TrainingSubmissionOptions();
        var command = new Command("train", "Queue a training run (operator).");
        submission.AddTo(command);
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = await submission.ReadAsync(parse);
            using var api = remote.Connect(parse);
            return RunsCommand.Queued(await api.PostAsync<JsonElement>("api/v1/runs/training", message), remote.WantsJson(parse));
        }));
        return command;
    }

    private static Command Evaluate()
    {
        var remote = new RemoteOptions();
        var submission = new EvaluationSubmissionOptions();
        var command = new Command("eval", "Queue an evaluation run of a model version or a training run's model (operator).");
        submission.AddTo(command);
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = submission.Read(parse);
            using var api = remote.Connect(parse);
            return RunsCommand.Queued(await api.PostAsync<JsonElement>("api/v1/runs/evaluation", message), remote.WantsJson(parse));
        }));
        return command;
    }

    private static Command Register()
    {
        var remote = new RemoteOptions();
        var registration = new RegistrationOptions();
        var command = new Command("register", "Register a run's model as the next version of a model name (admin).");
        registration.AddTo(command);
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = registration.Read(parse);
            using var api = remote.Connect(parse);
            var registered = await api.PostAsync<JsonElement>($"api/v1/models/{Uri.EscapeDataString(message.ModelName)}/versions",
                new { runId = message.SourceRunId, checkpointStep = message.CheckpointStep, description = message.Description, commandId = message.CommandId });
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
