using System.Globalization;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt configs</c>: the named configurations with their key figures.</summary>
public static class ConfigsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the configurations, complete, as one JSON array." };
        var command = new Command("configs", "List the named SqueezeNext configurations with parameters, MACs and training defaults.") { json };
        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(json))));
        return command;
    }

    private static int Run(bool json)
    {
        var rows = ConfigurationCatalog.All.Select(configuration =>
        {
            var summary = NetworkSummary.For(NetworkPlan.For(configuration.Architecture));
            return (Configuration: configuration, Summary: summary);
        }).ToList();

        if (json)
        {
            CliJson.Write(rows.Select(row => new
            {
                name = row.Configuration.Name,
                description = row.Configuration.Description,
                source = row.Configuration.Source,
                parameters = row.Summary.Parameters,
                macs = row.Summary.Macs,
                architecture = row.Configuration.Architecture,
                training = row.Configuration.Training,
            }));
            return 0;
        }

        var table = new TextTable("name", "params", "MMACs", "input", "batch", "base lr", "warmup", "from", "description")
            .AlignRight(1, 2, 3, 4, 5, 6);
        foreach (var (configuration, summary) in rows)
        {
            table.Add(configuration.Name, summary.Parameters, (summary.Macs / 1e6).ToString("F2", CultureInfo.InvariantCulture), configuration.Architecture.InputSize,
                configuration.Training.BatchSize, configuration.Training.BaseLearningRate,
                $"{configuration.Training.WarmupSteps} from {configuration.Training.WarmupStartLearningRate}",
                configuration.Source.StartsWith("TF", StringComparison.Ordinal) ? "TF" : configuration.Source.StartsWith("authors", StringComparison.Ordinal) ? "Caffe" : "derived",
                configuration.Description);
        }
        table.Write(Console.Out);
        Console.Out.WriteLine();
        Console.Out.WriteLine($"Default for training: {ConfigurationCatalog.DefaultName}. Your own: a JSON file with \"base\", \"name\" and the fields to change (see README).");
        return 0;
    }
}
