using System.CommandLine;
using MassTransit;

namespace SqueezeNext.Cli.Output;

/// <summary>
/// The broker options every <c>sqnxt submit</c> command takes; defaults come from the same environment variables the
/// worker reads (RabbitMq__Host, RabbitMq__Port, RabbitMq__VirtualHost, RabbitMq__Username, RabbitMq__Password).
/// </summary>
public sealed class Broker
{
    public Option<string> Host { get; } = new("--rabbit-host") { Description = "RabbitMQ host.", DefaultValueFactory = _ => Env("RabbitMq__Host", "127.0.0.1") };
    public Option<int> Port { get; } = new("--rabbit-port") { Description = "RabbitMQ port.", DefaultValueFactory = _ => int.Parse(Env("RabbitMq__Port", "5672")) };
    public Option<string> VirtualHost { get; } = new("--rabbit-vhost") { Description = "RabbitMQ virtual host.", DefaultValueFactory = _ => Env("RabbitMq__VirtualHost", "/") };
    public Option<string> Username { get; } = new("--rabbit-user") { Description = "RabbitMQ user.", DefaultValueFactory = _ => Env("RabbitMq__Username", "guest") };
    public Option<string> Password { get; } = new("--rabbit-password") { Description = "RabbitMQ password (default: $RabbitMq__Password).", DefaultValueFactory = _ => Env("RabbitMq__Password", "guest") };
    public Option<int> TimeoutSeconds { get; } = new("--timeout") { Description = "Seconds to wait for the worker's answer.", DefaultValueFactory = _ => 30 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Host, Port, VirtualHost, Username, Password, TimeoutSeconds }) command.Options.Add(option);
    }

    /// <summary>Starts a bus connection for one command; dispose to stop it.</summary>
    public async Task<BusConnection> ConnectAsync(ParseResult parse)
    {
        var control = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(parse.GetValue(Host)!, (ushort)parse.GetValue(Port), parse.GetValue(VirtualHost)!, host =>
            {
                host.Username(parse.GetValue(Username)!);
                host.Password(parse.GetValue(Password)!);
            });
        });
        var timeout = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(TimeoutSeconds), 1, 3600));
        using var starting = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await control.StartAsync(starting.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or MassTransitException or RabbitMqConnectionException)
        {
            throw new CliUsageException($"cannot reach RabbitMQ at {parse.GetValue(Host)}:{parse.GetValue(Port)} (vhost {parse.GetValue(VirtualHost)}): {e.GetBaseException().Message}");
        }
        return new BusConnection(control, timeout);
    }

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}

/// <summary>A started bus and the time to wait for answers.</summary>
public sealed class BusConnection(IBusControl bus, TimeSpan timeout) : IAsyncDisposable
{
    public IBus Bus => bus;

    public TimeSpan Timeout => timeout;

    public IRequestClient<T> Client<T>() where T : class => bus.CreateRequestClient<T>(RequestTimeout.After(s: (int)Math.Ceiling(timeout.TotalSeconds)));

    public async ValueTask DisposeAsync() => await bus.StopAsync(TimeSpan.FromSeconds(10));
}
