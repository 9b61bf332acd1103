using MassTransit;
using SqueezeNext.Contracts;
using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt bus classify|register|import|promote</c>: models on the workers.</summary>
public static class BusModelCommands
{
    public static Command Classify()
    {
        var broker = new Broker();
        var image = new Argument<string>("image") { Description = "Image file to classify." };
        var model = new Option<string?>("--model", "-m") { Description = "Model name (default: the worker's default model)." };
        var version = new Option<int?>("--version") { Description = "Model version (default: the serving one)." };
        var top = new Option<int>("--top", "-k") { Description = "How many labels.", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the answer as JSON." };
        var command = new Command("classify", "Classify an image on a worker and print its top labels.") { image, model, version, top, json };
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var path = parse.GetValue(image)!;
            if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
            await using var bus = await broker.ConnectAsync(parse);
            var (inline, reference) = await bus.Payloads.PackAsync(await File.ReadAllBytesAsync(path));
            var message = new ClassifyImage(NewId.NextGuid(), inline, parse.GetValue(top), parse.GetValue(model), parse.GetValue(version), reference);
            var answer = await bus.RequestAsync<ClassifyImage, ImageClassified, ClassificationRejected>(message, rejected => rejected.Reason,
                $"'{path}' was rejected: ", persistent: false);
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

    public static Command Register()
    {
        var broker = new Broker();
        var registration = new RegistrationOptions();
        var command = new Command("register", "Register a run's model as the next version of a model name.");
        registration.AddTo(command);
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var message = registration.Read(parse);
            await using var bus = await broker.ConnectAsync(parse);
            return Registered(await bus.RequestAsync<RegisterModel, ModelRegistered>(message, prefix: ""));
        }));
        return command;
    }

    public static Command Import()
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
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
            var weightsFormat = parse.GetValue(format) ?? (ModelImport.FormatOf(path) == WeightsFormat.Pytorch ? "pytorch" : "safetensors");
            await using var bus = await broker.ConnectAsync(parse);
            var (inline, reference) = await bus.Payloads.PackAsync(await File.ReadAllBytesAsync(path));
            return Registered(await bus.RequestAsync<ImportModel, ModelRegistered>(new ImportModel(NewId.NextGuid(),
                parse.GetValue(name)!, Path.GetFileName(path), weightsFormat, inline, parse.GetValue(config), parse.GetValue(description), reference), prefix: ""));
        }));
        return command;
    }

    public static Command Promote()
    {
        var broker = new Broker();
        var name = new Option<string>("--name", "-n") { Description = "Model name.", Required = true };
        var version = new Option<int>("--version") { Description = "Version to serve.", Required = true };
        var command = new Command("promote", "Make a model version the serving version of its name.") { name, version };
        broker.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            await using var bus = await broker.ConnectAsync(parse);
            await bus.RequestAsync<PromoteModel, ModelPromoted>(new PromoteModel(NewId.NextGuid(), parse.GetValue(name)!, parse.GetValue(version)), prefix: "");
            Console.Out.WriteLine($"{parse.GetValue(name)} v{parse.GetValue(version)} is serving");
            return 0;
        }));
        return command;
    }

    private static int Registered(ModelRegistered registered)
    {
        Console.Out.WriteLine($"registered {registered.ModelName} v{registered.Version}");
        return 0;
    }
}
