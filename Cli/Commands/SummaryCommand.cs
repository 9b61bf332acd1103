using System.Globalization;
using System.Text;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt summary</c>: the per-layer table of a configuration, with parameter and MAC totals.</summary>
public static class SummaryCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "A configuration name (see 'sqnxt configs') or a JSON configuration file.", Required = true };
        var inputSize = new Option<int?>("--input-size") { Description = "Square input side in pixels (default: the configuration's)." };
        var csv = new Option<string?>("--csv") { Description = "Also write the per-layer table to this CSV file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with config, parameters, macs and layers." };
        var command = new Command("summary", "Print a configuration's layers with output sizes, parameters and MACs.") { config, inputSize, csv, json };
        command.SetAction(parse => CliErrors.Run(() =>
            Run(parse.GetValue(config)!, parse.GetValue(inputSize), parse.GetValue(csv), parse.GetValue(json))));
        return command;
    }

    private static int Run(string configName, int? inputSize, string? csvPath, bool json)
    {
        var configuration = ConfigurationCatalog.Resolve(configName);
        if (inputSize is { } size && size is < 16 or > 1024)
            throw new CliUsageException($"--input-size {size} is outside 16..1024");
        var summary = NetworkSummary.For(NetworkPlan.For(configuration.Architecture), inputSize);

        if (csvPath is not null)
            AtomicFile.WriteAllText(csvPath, ToCsv(summary));

        if (json)
        {
            CliJson.Write(summary, ("config", configuration.Name));
            return 0;
        }

        Console.Out.WriteLine($"{configuration.Name}: {configuration.Description}");
        Console.Out.WriteLine($"input 3×{summary.InputSize}×{summary.InputSize}, {configuration.Architecture.NumClasses} classes");
        Console.Out.WriteLine();
        var table = new TextTable("layer", "type", "kernel", "stride", "groups", "channels", "output", "params", "MACs")
            .AlignRight(3, 4, 7, 8);
        foreach (var layer in summary.Layers)
        {
            table.Add(layer.Name, layer.Type, layer.Kernel, layer.Stride, layer.Groups, $"{layer.InChannels}→{layer.OutChannels}",
                $"{layer.OutputHeight}×{layer.OutputWidth}", layer.Parameters, layer.Macs);
        }
        table.Write(Console.Out);
        Console.Out.WriteLine();
        Console.Out.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "trainable parameters {0:N0} (weights {1:N0} + BatchNorm scale and shift)   MACs {2:N0} ({3:F2} M)",
            summary.Parameters, summary.Weights, summary.Macs, summary.Macs / 1e6));
        return 0;
    }

    private static string ToCsv(NetworkSummary summary)
    {
        var csv = new StringBuilder("name,type,kernel,stride,groups,in_channels,out_channels,output_height,output_width,params,macs\n");
        foreach (var l in summary.Layers)
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{l.Name},{l.Type},{l.Kernel.Replace('×', 'x')},{l.Stride},{l.Groups},{l.InChannels},{l.OutChannels},{l.OutputHeight},{l.OutputWidth},{l.Parameters},{l.Macs}\n");
        }
        csv.Append(CultureInfo.InvariantCulture, $"total,,,,,,,,,{summary.Parameters},{summary.Macs}\n");
        return csv.ToString();
    }
}
