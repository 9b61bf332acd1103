using System.ComponentModel.DataAnnotations;
using SqueezeNext.Contracts;
using SqueezeNext.Testing;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Credentials come from configuration, and RabbitMQ's guest account is refused beyond loopback.</summary>
public sealed class ConfigurationSecurityTests
{
    [Theory]
    [InlineData("127.0.0.1", "guest", true)]
    [InlineData("localhost", "guest", true)]
    [InlineData("::1", "guest", true)]
    [InlineData("[::1]", "guest", true)]
    [InlineData("rabbitmq", "guest", false)]
    [InlineData("10.0.0.5", "guest", false)]
    [InlineData("rabbitmq", "sqnxt", true)]
    public void The_guest_account_is_accepted_on_loopback_only(string host, string user, bool valid)
    {
        var options = new RabbitMqOptions { Host = host, Username = user, Password = "secret" };
        var problems = new List<ValidationResult>();
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true));
        if (!valid) Assert.Contains("guest account only works on loopback", Assert.Single(problems).ErrorMessage);
    }

    [Fact]
    public async Task A_worker_given_the_guest_account_for_a_remote_broker_refuses_to_start_naming_the_setting()
    {
        await using var system = await JobSystem.CreateAsync();
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => system.StartWorkerAsync(new Dictionary<string, string>
        {
            ["RabbitMq__Host"] = "rabbitmq.example",
            ["RabbitMq__Username"] = "guest",
        }));
        Assert.Contains("guest account only works on loopback", failure.Message);
        Assert.Contains("RabbitMq__Username", failure.Message);
    }
}
