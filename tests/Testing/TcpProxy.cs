using System.Net;
using System.Net.Sockets;

namespace SqueezeNext.Testing;

/// <summary>
/// A TCP forwarder between one process and a service, which a test can cut and restore: the network partition of
/// one process from a dependency that every other process still reaches. Written here because the partition tools
/// (toxiproxy, iptables) need a daemon or root that the test machines do not give.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly List<TcpClient> connections = [];
    private TcpListener listener;
    private CancellationTokenSource accepting = new();
    private Task acceptLoop;

    public TcpProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        acceptLoop = AcceptAsync(listener, accepting.Token);
    }

    /// <summary>The local port that forwards to the service.</summary>
    public int Port { get; }

    public bool IsCut { get; private set; }

    /// <summary>Closes every forwarded connection and refuses new ones until <see cref="Restore"/>.</summary>
    public async Task CutAsync()
    {
        IsCut = true;
        await accepting.CancelAsync();
        listener.Stop();
        await acceptLoop;
        lock (connections)
        {
            foreach (var connection in connections) connection.Dispose();
            connections.Clear();
        }
    }

    /// <summary>Accepts connections on the same port again.</summary>
    public void Restore()
    {
        accepting = new CancellationTokenSource();
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        acceptLoop = AcceptAsync(listener, accepting.Token);
        IsCut = false;
    }

    private async Task AcceptAsync(TcpListener server, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await server.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        lock (connections)
        {
            connections.Add(client);
            connections.Add(upstream);
        }
        try
        {
            await upstream.ConnectAsync(targetHost, targetPort);
            var clientStream = client.GetStream();
            var upstreamStream = upstream.GetStream();
            await Task.WhenAny(clientStream.CopyToAsync(upstreamStream), upstreamStream.CopyToAsync(clientStream));
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
            lock (connections)
            {
                connections.Remove(client);
                connections.Remove(upstream);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!IsCut) await CutAsync();
        accepting.Dispose();
    }
}
