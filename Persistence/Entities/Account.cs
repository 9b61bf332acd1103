namespace SqueezeNext.Persistence.Entities;

/// <summary>What an account may do; each role may do everything the roles before it may.</summary>
public enum AccountRole
{
    /// <summary>Reads runs, metrics, models, configurations and datasets.</summary>
    Viewer,

    /// <summary>Also submits, cancels and resumes runs, and classifies images.</summary>
    Operator,

    /// <summary>Also manages accounts, registers, imports and promotes models.</summary>
    Admin,
}

/// <summary>A person who signs in to the dashboard and owns API tokens: a name, a salted PBKDF2 hash of the password, a role.</summary>
public sealed class Account
{
    public string Name { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public AccountRole Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
