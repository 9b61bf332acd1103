using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// <c>sqnxt export</c>: a model artifact's weights as one safetensors file (with configuration and classes) or as a
/// PyTorch state dict (pytorchcv's tensor names for its layouts), both readable by PyTorch.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model directory (holding model.json and weights.safetensors).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The file to write (.safetensors, or .pth for a PyTorch state dict).", Required = true };
        var format = new Option<string?>("--format") { Description = "safetensors or pytorch (default: from the extension)." };
        format.AcceptOnlyFromAmong("safetensors", "pytorch");
        var command = new Command("export", "Write a model's weights to a safetensors file (with configuration and classes) or a PyTorch state dict.") { model, output, format };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var file = parse.GetValue(output)!;
            var pytorch = parse.GetValue(format) switch { "pytorch" => true, "safetensors" => false, _ => ModelImport.FormatOf(file) == WeightsFormat.Pytorch };
            if (pytorch) ModelExport.ToPytorch(parse.GetValue(model)!, file);
            else ModelExport.ToSafetensors(parse.GetValue(model)!, file);
            Console.Out.WriteLine($"wrote {file}");
            return 0;
        }));
        return command;
    }
}
