using System.Collections.Concurrent;
using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.Testing;

/// <summary>
/// A client bus on a RabbitMQ virtual host that records every job-system event it hears (a temporary queue of its
/// own bound to each event's exchange), and sends requests as other services do.
/// </summary>
public sealed class RecordingBus : IAsyncDisposable
{
    private readonly IBusControl bus;

    private RecordingBus(IBusControl bus) => this.bus = bus;

    public ConcurrentQueue<object> Events { get; } = new();

    public IBus Bus => bus;

    /// <param name="configure">Endpoints of the test's own.</param>
    /// <param name="messageData">The job system's claim-check store, so the client sends and reads payloads by reference as the hosts do.</param>
    public static async Task<RecordingBus> StartAsync(string host, int port, string virtualHost, string user, string password,
        Action<IRabbitMqBusFactoryConfigurator>? configure = null, IMessageDataRepository? messageData = null)
    {
        RecordingBus? recording = null;
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(host, (ushort)port, virtualHost, h =>
            {
                h.Username(user);
                h.Password(password);
            });
            if (messageData is not null) rabbit.UseMessageData(messageData);
            rabbit.ReceiveEndpoint($"test-events-{Guid.NewGuid().ToString("N")[..12]}", endpoint =>
            {
                endpoint.AutoDelete = true;
                Record<RunQueued>(endpoint);
                Record<RunStarted>(endpoint);
                Record<RunProgressed>(endpoint);
                Record<CheckpointSaved>(endpoint);
                Record<RunCompleted>(endpoint);
                Record<RunFailed>(endpoint);
                Record<RunCancelled>(endpoint);
                Record<CommandRejected>(endpoint);
                Record<ImageClassified>(endpoint);
                Record<ClassificationRejected>(endpoint);
            });
            configure?.Invoke(rabbit);
        });
        recording = new RecordingBus(bus);
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return recording;

        void Record<T>(IReceiveEndpointConfigurator endpoint) where T : class =>
            endpoint.Handler<T>(context =>
            {
                recording!.Events.Enqueue(context.Message);
                return Task.CompletedTask;
            });
    }

    public IRequestClient<T> Client<T>() where T : class => bus.CreateRequestClient<T>(RequestTimeout.After(s: 60));

    public IEnumerable<T> EventsOf<T>() => Events.OfType<T>();

    /// <param name="context">What to add to the failure message (the workers' logs).</param>
    public async Task WaitForEventAsync<T>(Func<T, bool> match, TimeSpan timeout, string what, Func<string>? context = null)
    {
        await Poll.UntilAsync(() => Task.FromResult(Events.OfType<T>().Any(match)), what, timeout, context);
    }

    public async ValueTask DisposeAsync() => await bus.StopAsync(TimeSpan.FromSeconds(10));
}
