using DataAnnotations = System.ComponentModel.DataAnnotations;
using MassTransit;
using Microsoft.Extensions.Configuration;
using SqueezeNext.Contracts;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Cli.Output;

/// <summary>
/// The broker options every <c>sqnxt bus</c> command takes. They are the hosts' <see cref="RabbitMqOptions"/>: the
/// defaults are read from the same environment variables (RabbitMq__Host, RabbitMq__Port, RabbitMq__VirtualHost,
/// RabbitMq__Username, RabbitMq__Password), and the result is validated by the same rules before connecting.
/// </summary>
public sealed class Broker
{
    // No defaults in the options themselves: the environment is read inside the command's action, where a bad value
    // becomes the command's one-line error instead of a crash while parsing.
    public Option<string?> Host { get; } = new("--rabbit-host") { Description = "RabbitMQ host (default: $RabbitMq__Host, else 127.0.0.1)." };
    public Option<int?> Port { get; } = new("--rabbit-port") { Description = "RabbitMQ port (default: $RabbitMq__Port, else 5672)." };
    public Option<string?> VirtualHost { get; } = new("--rabbit-vhost") { Description = "RabbitMQ virtual host (default: $RabbitMq__VirtualHost, else /)." };
    public Option<string?> Username { get; } = new("--rabbit-user") { Description = "RabbitMQ user (default: $RabbitMq__Username, else guest)." };
    public Option<string?> Password { get; } = new("--rabbit-password") { Description = "RabbitMQ password (default: $RabbitMq__Password, else guest)." };
    public Option<int> TimeoutSeconds { get; } = new("--timeout") { Description = "Seconds to wait for the worker's answer.", DefaultValueFactory = _ => 30 };

    public Option<string?> MessageDataDirectory { get; } = new("--message-data")
    {
        Description = "The message data folder the dashboard and workers share: images and weights over 1 MB go there, and messages carry their address (default: $MessageData__Directory; without one they travel inside the message).",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Host, Port, VirtualHost, Username, Password, TimeoutSeconds, MessageDataDirectory }) command.Options.Add(option);
    }

    /// <summary>The broker options of this command line, refused with every problem named when they are not valid.</summary>
    public RabbitMqOptions Settings(ParseResult parse)
    {
        var settings = ReadEnvironment();
        if (parse.GetValue(Host) is { } host) settings.Host = host;
        if (parse.GetValue(Port) is { } port) settings.Port = port;
        if (parse.GetValue(VirtualHost) is { } virtualHost) settings.VirtualHost = virtualHost;
        if (parse.GetValue(Username) is { } username) settings.Username = username;
        if (parse.GetValue(Password) is { } password) settings.Password = password;
        var problems = new List<DataAnnotations.ValidationResult>();
        if (!DataAnnotations.Validator.TryValidateObject(settings, new DataAnnotations.ValidationContext(settings), problems, validateAllProperties: true))
            throw new CliUsageException($"broker settings: {string.Join("; ", problems.Select(p => p.ErrorMessage))}");
        return settings;
    }

    /// <summary>Starts a bus connection for one command; dispose to stop it.</summary>
    public async Task<BusConnection> ConnectAsync(ParseResult parse)
    {
        var settings = Settings(parse);
        var directory = parse.GetValue(MessageDataDirectory) ?? Environment.GetEnvironmentVariable($"{MessageDataOptions.Section}__Directory");
        var store = string.IsNullOrEmpty(directory) ? null : new ConfinedFileMessageDataRepository(directory, new MessageDataOptions().MaxReadBytes);
        var control = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.ConnectTo(settings);
            if (store is not null) rabbit.UseMessageData(store);
        });
        var timeout = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(TimeoutSeconds), 1, 3600));
        using var starting = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await control.StartAsync(starting.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or MassTransitException or RabbitMqConnectionException)
        {
            throw new CliUsageException($"cannot reach RabbitMQ at {settings.Host}:{settings.Port} (vhost {settings.VirtualHost}): {e.GetBaseException().Message}");
        }
        return new BusConnection(control, timeout, new MessagePayloads(Microsoft.Extensions.Options.Options.Create(new MessageDataOptions { Directory = directory }), store));
    }

    private static RabbitMqOptions ReadEnvironment()
    {
        var settings = new RabbitMqOptions();
        try
        {
            new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(RabbitMqOptions.Section).Bind(settings);
        }
        catch (InvalidOperationException e)
        {
            throw new CliUsageException($"broker settings from the environment: {e.Message}");
        }
        return settings;
    }
}

/// <summary>A started bus and the time to wait for answers.</summary>
public sealed class BusConnection(IBusControl bus, TimeSpan timeout, MessagePayloads payloads) : IAsyncDisposable
{
    public IBus Bus => bus;

    /// <summary>Puts images and weights into messages as the dashboard does (by reference when there is a store and they are large).</summary>
    public MessagePayloads Payloads => payloads;

    /// <summary>
    /// Sends <paramref name="command"/> and waits for its answer (<see cref="CommandRequests"/>). A rejection becomes the
    /// command line's one-line error (its reason, after <paramref name="prefix"/>), and so does a worker that does not answer in time.
    /// </summary>
    public async Task<TAnswer> RequestAsync<TCommand, TAnswer, TRejected>(TCommand command, Func<TRejected, string> reason, string prefix = "rejected: ",
        bool persistent = true)
        where TCommand : class where TAnswer : class where TRejected : class =>
        AnswerOf(await bus.RequestAsync<TCommand, TAnswer, TRejected>(command, reason, timeout, persistent), prefix);

    /// <summary><see cref="RequestAsync{TCommand,TAnswer,TRejected}"/> for the commands a worker answers or rejects with <see cref="CommandRejected"/>.</summary>
    public async Task<TAnswer> RequestAsync<TCommand, TAnswer>(TCommand command, string prefix = "rejected: ") where TCommand : class where TAnswer : class =>
        AnswerOf(await bus.RequestAsync<TCommand, TAnswer>(command, timeout), prefix);

    private static TAnswer AnswerOf<TAnswer>(CommandReply<TAnswer> reply, string prefix) where TAnswer : class =>
        reply.Answer ?? throw new CliUsageException(reply.Problem(prefix)!);

    public async ValueTask DisposeAsync() => await bus.StopAsync(TimeSpan.FromSeconds(10));
}
