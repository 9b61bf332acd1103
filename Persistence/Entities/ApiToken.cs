namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// A personal API token. Only the SHA-256 of the secret is stored (the secret is shown once, when it is made); a token
/// acts with its account's current role until it expires or is revoked.
/// </summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }
    public string AccountName { get; set; } = "";

    /// <summary>The owner's label for the token ("ci", "laptop").</summary>
    public string Name { get; set; } = "";

    /// <summary>The secret's first characters, so a person can tell tokens apart without the secret.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the whole secret.</summary>
    public string SecretHash { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
}
