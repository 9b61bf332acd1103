using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Onnx;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// <c>sqnxt export</c>: a model artifact as one safetensors file (with configuration and classes), a PyTorch state dict
/// (pytorchcv's tensor names for its layouts), or an ONNX model (BatchNorm folded, checked in ONNX Runtime).
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model directory (holding model.json and weights.safetensors).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The file to write (.safetensors, .pth for a PyTorch state dict, .onnx).", Required = true };
        var format = new Option<string?>("--format") { Description = "safetensors, pytorch or onnx (default: from the extension)." };
        format.AcceptOnlyFromAmong("safetensors", "pytorch", "onnx");
        var command = new Command("export", "Write a model as a safetensors file (with configuration and classes), a PyTorch state dict, or an ONNX model.")
        {
            model, output, format,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var directory = parse.GetValue(model)!;
            var file = parse.GetValue(output)!;
            switch (parse.GetValue(format) ?? FormatOf(file))
            {
                case "onnx":
                    var onnx = OnnxExport.Export(directory, file);
                    Console.Out.WriteLine($"wrote {file} ({onnx.Bytes:N0} bytes; ONNX Runtime's logits within {onnx.Check.MaxDifference:G2} of TorchSharp's)");
                    return 0;
                case "pytorch":
                    ModelExport.ToPytorch(directory, file);
                    break;
                default:
                    ModelExport.ToSafetensors(directory, file);
                    break;
            }
            Console.Out.WriteLine($"wrote {file}");
            return 0;
        }));
        return command;
    }

    private static string FormatOf(string file) =>
        Path.GetExtension(file).Equals(".onnx", StringComparison.OrdinalIgnoreCase) ? "onnx"
        : ModelImport.FormatOf(file) == WeightsFormat.Pytorch ? "pytorch"
        : "safetensors";
}
