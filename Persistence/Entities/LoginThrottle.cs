namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// Failed sign-ins counted for one client: a key is an address, or an account name as tried from one address, so
/// failures slow down whoever makes them and nobody else.
/// </summary>
public sealed class LoginThrottle
{
    public string Key { get; set; } = "";
    public int Failures { get; set; }
    public DateTimeOffset LastFailureAt { get; set; }

    /// <summary>No sign-in is checked for this key before then.</summary>
    public DateTimeOffset? BlockedUntil { get; set; }
}
