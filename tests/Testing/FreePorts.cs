using System.Net.Sockets;

namespace SqueezeNext.Testing;

/// <summary>Loopback ports for the processes a test starts.</summary>
public static class FreePorts
{
    /// <summary>
    /// <paramref name="count"/> ports free now and distinct: every listener stays open until all are chosen, since one
    /// closed before the next is asked for can be handed out again (a worker was once given RabbitMQ's management port).
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(System.Net.IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var listener in listeners) listener.Start();
            return listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
        }
    }
}
