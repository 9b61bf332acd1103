using Microsoft.Extensions.Configuration;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>The bus every process of the product joins: MassTransit on RabbitMQ, with the broker options validated at start.</summary>
public static class BusWiring
{
    /// <summary>
    /// Binds and validates <see cref="RabbitMqOptions"/> and adds MassTransit on RabbitMQ with kebab-case endpoint
    /// names; <paramref name="addConsumers"/> registers the host's own consumers, whose endpoints are then configured.
    /// </summary>
    public static IHostApplicationBuilder AddJobsBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> addConsumers)
    {
        builder.Services.AddOptions<RabbitMqOptions>().Bind(builder.Configuration.GetSection(RabbitMqOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        var messageData = builder.Configuration.GetSection(MessageDataOptions.Section);
        builder.Services.AddOptions<MessageDataOptions>().Bind(messageData).ValidateDataAnnotations().ValidateOnStart();
        var store = messageData.Get<MessageDataOptions>() is { Directory: { Length: > 0 } directory } settings
            ? new ConfinedFileMessageDataRepository(directory, settings.MaxReadBytes)
            : null;
        if (store is not null)
        {
            builder.Services.AddSingleton(store);
            builder.Services.AddSingleton<IMessageDataRepository>(store);
        }
        builder.Services.AddSingleton<MessagePayloads>();
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            addConsumers(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.ConnectTo(context.GetRequiredService<IOptions<RabbitMqOptions>>().Value);
                if (store is not null) rabbit.UseMessageData(store);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    /// <summary>Points a RabbitMQ bus at the broker <paramref name="settings"/> name (hosts and <c>sqnxt submit</c> alike).</summary>
    public static void ConnectTo(this IRabbitMqBusFactoryConfigurator rabbit, RabbitMqOptions settings) =>
        rabbit.Host(settings.Host, (ushort)settings.Port, settings.VirtualHost, host =>
        {
            host.Username(settings.Username);
            host.Password(settings.Password);
        });
}
