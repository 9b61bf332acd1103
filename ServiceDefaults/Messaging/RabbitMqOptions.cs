using System.ComponentModel.DataAnnotations;
using System.Net;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>Where the broker is and who connects (section "RabbitMq"), for every process on the bus.</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    public const string Section = "RabbitMq";

    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    [Required]
    public string VirtualHost { get; set; } = "/";

    [Required]
    public string Username { get; set; } = "guest";

    [Required]
    public string Password { get; set; } = "guest";

    public bool HostIsLoopback => Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                                  || (IPAddress.TryParse(Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// RabbitMQ's built-in guest account is the development default and only works on loopback; anywhere else a
    /// process would fail to connect later with an unhelpful access refusal, so it fails at start saying what to set.
    /// </summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Username == "guest" && !HostIsLoopback)
            yield return new ValidationResult(
                $"RabbitMq: the guest account only works on loopback, and the broker is '{Host}'; set RabbitMq__Username and RabbitMq__Password",
                [nameof(Username)]);
    }
}
