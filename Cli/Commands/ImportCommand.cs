using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// <c>sqnxt import</c>: a model directory from a weights file (a PyTorch state dict such as pytorchcv's pretrained
/// SqueezeNext weights, or a safetensors file), checking every tensor name and shape.
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The weights file to import (.pth/.pt state dict, or .safetensors)." };
        var format = new Option<string?>("--format") { Description = "pytorch or safetensors (default: from the file's extension)." };
        format.AcceptOnlyFromAmong("pytorch", "safetensors");
        var config = new Option<string?>("--config", "-c")
        {
            Description = "Configuration the weights belong to: required for a state dict (pytorchcv's: sqnxt23_w1 ... sqnxt23v5_w2); default for safetensors: the one in its metadata.",
        };
        var output = new Option<string>("--out", "-o") { Description = "Model directory to create.", Required = true };
        var command = new Command("import", "Create a model directory from a weights file, checking every tensor name and shape.") { file, format, config, output };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var path = parse.GetValue(file)!;
            var configName = parse.GetValue(config);
            var configuration = configName is null ? null : ConfigurationCatalog.Resolve(configName);
            var weightsFormat = parse.GetValue(format) switch
            {
                "pytorch" => WeightsFormat.Pytorch,
                "safetensors" => WeightsFormat.Safetensors,
                _ => ModelImport.FormatOf(path),
            };
            var directory = parse.GetValue(output)!;
            var manifest = ModelImport.FromFile(path, weightsFormat, configuration, directory);
            Console.Out.WriteLine($"imported {manifest.Configuration.Name} ({manifest.TrainableParameters:N0} parameters, " +
                $"{manifest.Configuration.Training.Preprocessing} pre-processing at {manifest.Configuration.Architecture.InputSize}×{manifest.Configuration.Architecture.InputSize}) into {directory}");
            return 0;
        }));
        return command;
    }
}
