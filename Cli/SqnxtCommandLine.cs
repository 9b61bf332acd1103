using SqueezeNext.Cli.Commands;

namespace SqueezeNext.Cli;

/// <summary>The <c>sqnxt</c> command tree.</summary>
public static class SqnxtCommandLine
{
    public static RootCommand Build() => new("sqnxt: train, evaluate, inspect and convert SqueezeNext image classifiers.")
    {
        ConfigsCommand.Create(), SummaryCommand.Create(), TrainCommand.Create(), EvalCommand.Create(), PredictCommand.Create(),
        BenchCommand.Create(), PrepareImageNetCommand.Create(), ExportCommand.Create(), ImportCommand.Create(),
        LoginCommand.Login(), LoginCommand.Logout(), RunsCommand.Create(), ModelsCommand.Create(), DatasetsCommand.Create(), ClassifyCommand.Create(), SubmitCommand.Create(), BusCommand.Create(),
    };
}
