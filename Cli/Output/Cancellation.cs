namespace SqueezeNext.Cli.Output;

/// <summary>Ctrl-C asks the running work to stop cleanly (a training run checkpoints first); a second Ctrl-C kills.</summary>
public sealed class Cancellation : IDisposable
{
    private readonly CancellationTokenSource source = new();

    public Cancellation()
    {
        Console.CancelKeyPress += OnCancel;
    }

    public CancellationToken Token => source.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (source.IsCancellationRequested) return;
        e.Cancel = true;
        Console.Error.WriteLine();
        Console.Error.WriteLine("sqnxt: stopping after the current batch (Ctrl-C again to kill)");
        source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        source.Dispose();
    }
}
