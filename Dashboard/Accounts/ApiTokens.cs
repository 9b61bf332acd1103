using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Accounts;

/// <summary>A token just made: the stored row, and the secret, which exists only in this object and is shown once.</summary>
public sealed record NewApiToken(ApiToken Token, string Secret);

/// <summary>Who a Bearer secret stands for, or why it stands for nobody.</summary>
public sealed record TokenCheck(Account? Account, ApiToken? Token, string? Problem);

/// <summary>
/// Personal API tokens: made and revoked by their owner on the dashboard's token page, stored as the SHA-256 of the
/// secret (the secret has 256 random bits, so a slow password hash would add nothing), and always expiring.
/// </summary>
public sealed class ApiTokens(IDbContextFactory<JobsDbContext> databases, TimeProvider clock, ILogger<ApiTokens> logger)
{
    public const string SecretPrefix = "sqnxt_";
    public static readonly int[] LifetimeDays = [7, 30, 90, 365];

    /// <summary>Last-used times are written at most this often per token, not on every request.</summary>
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public async Task<NewApiToken> CreateAsync(string accountName, string name, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        var secret = SecretPrefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var token = new ApiToken
        {
            Id = Guid.NewGuid(),
            AccountName = accountName,
            Name = string.IsNullOrWhiteSpace(name) ? "token" : name.Trim()[..Math.Min(100, name.Trim().Length)],
            Prefix = secret[..(SecretPrefix.Length + 6)],
            SecretHash = HashOf(secret),
            CreatedAt = now,
            ExpiresAt = now + lifetime,
        };
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("API token '{Token}' ({Prefix}...) made for '{User}', expires {Expires:u}", token.Name, token.Prefix, accountName, token.ExpiresAt);
        return new(token, secret);
    }

    public async Task<IReadOnlyList<ApiToken>> ListAsync(string accountName, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.ApiTokens.AsNoTracking().Where(t => t.AccountName == accountName).OrderByDescending(t => t.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>Revokes one of the account's tokens; false when it has no such token.</summary>
    public async Task<bool> RevokeAsync(string accountName, Guid id, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        int revoked = await db.ApiTokens.Where(t => t.Id == id && t.AccountName == accountName && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        if (revoked == 1) logger.LogInformation("API token {Id} of '{User}' revoked", id, accountName);
        return revoked == 1;
    }

    /// <summary>The account a Bearer secret belongs to, or which of unknown, expired or revoked it is.</summary>
    public async Task<TokenCheck> CheckAsync(string secret, CancellationToken cancellationToken = default)
    {
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal)) return new(null, null, "the token is not a sqnxt API token");
        var hash = HashOf(secret);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var found = await db.ApiTokens.AsNoTracking().Where(t => t.SecretHash == hash)
            .Join(db.Accounts, t => t.AccountName, a => a.Name, (t, a) => new { Token = t, Account = a })
            .FirstOrDefaultAsync(cancellationToken);
        var now = clock.GetUtcNow();
        if (found is null) return new(null, null, "the token is unknown");
        if (found.Token.RevokedAt is not null) return new(null, found.Token, "the token was revoked");
        if (found.Token.ExpiresAt <= now) return new(null, found.Token, $"the token expired at {found.Token.ExpiresAt:u}");
        if (found.Token.LastUsedAt is not { } used || now - used > LastUsedResolution)
            await db.ApiTokens.Where(t => t.Id == found.Token.Id).ExecuteUpdateAsync(t => t.SetProperty(x => x.LastUsedAt, now), cancellationToken);
        return new(found.Account, found.Token, null);
    }

    private static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
