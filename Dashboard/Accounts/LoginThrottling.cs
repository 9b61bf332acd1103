using System.Net;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Accounts;

/// <summary>
/// Backoff for failed sign-ins, kept in the database so every dashboard replica applies it. Failures are counted per
/// address and per account name as tried from that address; once a count passes its free attempts, that client must
/// wait twice as long after each further failure. Nothing is ever locked for a client that has not failed: somebody
/// guessing the admin's password slows down only themselves.
/// </summary>
public sealed class LoginThrottling(IDbContextFactory<JobsDbContext> databases, TimeProvider clock)
{
    /// <summary>Wrong passwords for one account name from one address before the backoff starts.</summary>
    public const int FreeFailuresPerAccount = 3;

    /// <summary>Wrong sign-ins from one address, whatever the names, before the backoff starts (a shared office address).</summary>
    public const int FreeFailuresPerAddress = 10;

    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);

    /// <summary>A key with no failure for this long starts counting from zero again.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    /// <summary>How long this client must still wait before a sign-in is checked, or null when it may try now.</summary>
    public async Task<TimeSpan?> WaitAsync(IPAddress? address, string accountName, CancellationToken cancellationToken = default)
    {
        var keys = KeysOf(address, accountName);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var until = await db.LoginThrottles.AsNoTracking().Where(t => keys.Contains(t.Key) && t.BlockedUntil > now)
            .MaxAsync(t => t.BlockedUntil, cancellationToken);
        return until is { } blocked ? blocked - now : null;
    }

    /// <summary>Counts a failed sign-in against both of the client's keys and starts or doubles their wait.</summary>
    public async Task FailedAsync(IPAddress? address, string accountName, CancellationToken cancellationToken = default)
    {
        var (addressKey, accountKey) = KeysOfPair(address, accountName);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow();
        foreach (var (key, free) in new[] { (addressKey, FreeFailuresPerAddress), (accountKey, FreeFailuresPerAccount) })
        {
            // One statement per key, so concurrent failures from several replicas all count.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO login_throttles (key, failures, last_failure_at, blocked_until) VALUES ({key}, 1, {now}, NULL)
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN login_throttles.last_failure_at < {now - ForgetAfter} THEN 1 ELSE login_throttles.failures + 1 END,
                    last_failure_at = {now}
                """, cancellationToken);
            var failures = await db.LoginThrottles.Where(t => t.Key == key).Select(t => t.Failures).SingleAsync(cancellationToken);
            if (DelayAfter(failures, free) is { } delay)
                await db.LoginThrottles.Where(t => t.Key == key).ExecuteUpdateAsync(t => t.SetProperty(x => x.BlockedUntil, now + delay), cancellationToken);
        }
    }

    /// <summary>A correct password clears the account's count from this address (not the address's: that would let one good account reset it).</summary>
    public async Task SucceededAsync(IPAddress? address, string accountName, CancellationToken cancellationToken = default)
    {
        var (_, accountKey) = KeysOfPair(address, accountName);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        await db.LoginThrottles.Where(t => t.Key == accountKey).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failure: none while free, then 1 s, 2 s, 4 s ... up to <see cref="MaxDelay"/>.</summary>
    public static TimeSpan? DelayAfter(int failures, int free) =>
        failures <= free ? null : TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, Math.Pow(2, Math.Min(30, failures - free - 1))));

    private static string[] KeysOf(IPAddress? address, string accountName)
    {
        var (addressKey, accountKey) = KeysOfPair(address, accountName);
        return [addressKey, accountKey];
    }

    private static (string Address, string Account) KeysOfPair(IPAddress? address, string accountName)
    {
        var where = address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        var name = accountName.Trim().ToLowerInvariant();
        return ($"address:{where}", $"account:{(name.Length > 100 ? name[..100] : name)}@{where}");
    }
}
