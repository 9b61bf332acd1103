namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>This worker process's name in the run table: machine, process id and a random suffix.</summary>
public sealed class WorkerIdentity
{
    public string Name { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
