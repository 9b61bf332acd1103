namespace SqueezeNext.Cli.Tests;

/// <summary><c>sqnxt bus</c> takes the hosts' broker options and refuses what the hosts refuse, before connecting.</summary>
[Trait("Level", "processes")]
public sealed class BrokerSettingsTests
{
    [Fact]
    public void Bus_refuses_the_guest_account_beyond_loopback_as_the_hosts_do()
    {
        var result = Sqnxt.Run("bus", "cancel", Guid.NewGuid().ToString(), "--rabbit-host", "rabbitmq.example");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("sqnxt: error: broker settings: RabbitMq: the guest account only works on loopback, and the broker is 'rabbitmq.example'", result.Error);
        Assert.DoesNotContain("cannot reach RabbitMQ", result.Error);
    }

    [Fact]
    public void Bus_refuses_a_port_out_of_range()
    {
        var result = Sqnxt.Run("bus", "cancel", Guid.NewGuid().ToString(), "--rabbit-port", "70000");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("broker settings: The field Port must be between 1 and 65535.", result.Error);
    }

    [Fact]
    public void A_broker_setting_from_the_environment_that_is_not_a_number_is_one_line_naming_it()
    {
        var result = Sqnxt.Run(TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["RabbitMq__Port"] = "abc" },
            "bus", "cancel", Guid.NewGuid().ToString());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("sqnxt: error: broker settings from the environment: ", result.Error);
        Assert.Contains("'RabbitMq:Port'", result.Error);
        Assert.DoesNotContain("Unhandled exception", result.Error);
    }
}
