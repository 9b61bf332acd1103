using SqueezeNext.Cli.Commands;

namespace SqueezeNext.Cli;

/// <summary>The <c>sqnxt</c> command tree.</summary>
public static class SqnxtCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("sqnxt: train, evaluate, inspect and convert SqueezeNext image classifiers.");
        root.Subcommands.Add(ConfigsCommand.Create());
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(PrepareImageNetCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(SubmitCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        return root;
    }
}
