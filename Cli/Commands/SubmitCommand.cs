namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt submit ...</c>: send jobs and commands to the workers through RabbitMQ and print their answers.</summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var command = new Command("submit", "Send jobs and commands to the workers through RabbitMQ.");
        command.Subcommands.Add(SubmitRunCommands.Train());
        command.Subcommands.Add(SubmitRunCommands.Evaluate());
        command.Subcommands.Add(SubmitModelCommands.Classify());
        command.Subcommands.Add(SubmitRunCommands.Cancel());
        command.Subcommands.Add(SubmitRunCommands.Resume());
        command.Subcommands.Add(SubmitModelCommands.Register());
        command.Subcommands.Add(SubmitModelCommands.Import());
        command.Subcommands.Add(SubmitModelCommands.Promote());
        return command;
    }

    /// <summary>Runs a subcommand's action, every failure one line on stderr (<see cref="CliErrors"/>).</summary>
    internal static int Run(Func<Task<int>> action) => CliErrors.Run(() => action().GetAwaiter().GetResult());
}
