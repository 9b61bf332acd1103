namespace SqueezeNext.Persistence.Entities;

/// <summary>A dashboard login: the name, a salted PBKDF2 hash of the password, and the lockout counters.</summary>
public sealed class DashboardUser
{
    public string Name { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public int FailedAttempts { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
