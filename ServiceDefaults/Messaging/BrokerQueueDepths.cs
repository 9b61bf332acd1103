using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>The messages and consumers of one broker queue at one moment.</summary>
public sealed record QueueDepth(string Queue, long Messages, long Consumers);

/// <summary>
/// Reads queue depths with a passive declare over AMQP, which every broker answers, rather than through the management
/// plugin, which a deployment may leave off. One connection is kept open and re-made after the broker goes away.
/// </summary>
public sealed class BrokerQueueDepths(RabbitMqOptions settings) : IAsyncDisposable
{
    private IConnection? connection;

    /// <summary>The depth of each queue that exists; a queue not declared yet (no worker has started) is left out.</summary>
    public async Task<IReadOnlyList<QueueDepth>> ReadAsync(IEnumerable<string> queues, CancellationToken cancellationToken)
    {
        connection = connection is { IsOpen: true } open ? open : await ConnectAsync(cancellationToken);
        var depths = new List<QueueDepth>();
        foreach (var queue in queues)
        {
            // A passive declare of a missing queue closes its channel, so each queue gets its own.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                depths.Add(new QueueDepth(queue, declared.MessageCount, declared.ConsumerCount));
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
            }
        }
        return depths;
    }

    private async Task<IConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (connection is not null) await connection.DisposeAsync();
        var factory = new ConnectionFactory
        {
            HostName = settings.Host, Port = settings.Port, VirtualHost = settings.VirtualHost,
            UserName = settings.Username, Password = settings.Password, ClientProvidedName = "sqnxt queue depths",
        };
        return await factory.CreateConnectionAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null) await connection.DisposeAsync();
    }
}
