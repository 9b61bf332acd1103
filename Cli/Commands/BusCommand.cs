namespace SqueezeNext.Cli.Commands;

/// <summary>
/// <c>sqnxt bus ...</c>: the commands sent straight to the workers through RabbitMQ, for hosts inside the deployment
/// that reach the broker but not the dashboard (the remote commands go through the dashboard's API instead).
/// </summary>
public static class BusCommand
{
    public static Command Create() => new("bus", "Send jobs and commands straight to the workers through RabbitMQ, without the dashboard.")
    {
        BusRunCommands.Train(), BusRunCommands.Evaluate(), BusModelCommands.Classify(), BusRunCommands.Cancel(),
        BusRunCommands.Resume(), BusModelCommands.Register(), BusModelCommands.Import(), BusModelCommands.Promote(),
    };
}
