namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt submit ...</c>: send jobs and commands to the workers through RabbitMQ and print their answers.</summary>
public static class SubmitCommand
{
    public static Command Create() => new("submit", "Send jobs and commands to the workers through RabbitMQ.")
    {
        SubmitRunCommands.Train(), SubmitRunCommands.Evaluate(), SubmitModelCommands.Classify(), SubmitRunCommands.Cancel(),
        SubmitRunCommands.Resume(), SubmitModelCommands.Register(), SubmitModelCommands.Import(), SubmitModelCommands.Promote(),
    };

    /// <summary>Runs a subcommand's action, every failure one line on stderr (<see cref="CliErrors"/>).</summary>
    internal static int Run(Func<Task<int>> action) => CliErrors.Run(() => action().GetAwaiter().GetResult());
}
