using System.CommandLine;
using SqueezeNext.Cli.Output;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt import</c>: a model directory from a safetensors file with this project's tensor names.</summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The weights file to import." };
        var format = new Option<string>("--format") { Description = "Format of the file.", DefaultValueFactory = _ => "safetensors" };
        format.AcceptOnlyFromAmong("safetensors");
        var config = new Option<string?>("--config", "-c") { Description = "Configuration the weights belong to (default: the one in the file's metadata)." };
        var output = new Option<string>("--out", "-o") { Description = "Model directory to create.", Required = true };
        var command = new Command("import", "Create a model directory from a weights file, checking every tensor name and shape.") { file, format, config, output };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var configName = parse.GetValue(config);
            var configuration = configName is null ? null : ConfigurationCatalog.Resolve(configName);
            var directory = parse.GetValue(output)!;
            var manifest = ModelArtifact.ImportSafetensors(parse.GetValue(file)!, configuration, directory);
            Console.Out.WriteLine($"imported {manifest.Configuration.Name} ({manifest.TrainableParameters:N0} parameters) into {directory}");
            return 0;
        }));
        return command;
    }
}
