using System.CommandLine;
using SqueezeNext.Cli.Output;
using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt export</c>: a model artifact's weights as one safetensors file that PyTorch can read.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model directory (holding model.json and weights.safetensors).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The .safetensors file to write.", Required = true };
        var format = new Option<string>("--format") { Description = "Export format.", DefaultValueFactory = _ => "safetensors" };
        format.AcceptOnlyFromAmong("safetensors");
        var command = new Command("export", "Write a model's weights, configuration and classes to one safetensors file.") { model, output, format };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var file = parse.GetValue(output)!;
            ModelArtifact.ExportSafetensors(parse.GetValue(model)!, file);
            Console.Out.WriteLine($"wrote {file}");
            return 0;
        }));
        return command;
    }
}
