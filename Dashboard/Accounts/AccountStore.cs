using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Accounts;

/// <summary>How a sign-in ended: the account, wrong credentials, or this client must wait first.</summary>
public sealed record SignInOutcome(Account? Account, TimeSpan? RetryAfter)
{
    public bool Succeeded => Account is not null;
    public bool Throttled => RetryAfter is not null;
}

/// <summary>
/// The dashboard's accounts: the first admin (its password from DASHBOARD_ADMIN_PASSWORD, or generated and printed
/// once), sign-in behind <see cref="LoginThrottling"/>, and the admin's changes to accounts.
/// </summary>
public sealed partial class AccountStore(IDbContextFactory<JobsDbContext> databases, LoginThrottling throttling, IConfiguration configuration,
    TimeProvider clock, ILogger<AccountStore> logger)
{
    public const string AdminName = "admin";
    public const int MinPasswordLength = 12;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public async Task EnsureAdminAsync()
    {
        await using var db = await databases.CreateDbContextAsync();
        var admin = await db.Accounts.FirstOrDefaultAsync(u => u.Name == AdminName);
        var configured = configuration["DASHBOARD_ADMIN_PASSWORD"];
        if (!string.IsNullOrEmpty(configured))
        {
            if (admin is null)
                db.Accounts.Add(new Account { Name = AdminName, PasswordHash = PasswordHasher.Hash(configured), Role = AccountRole.Admin, CreatedAt = clock.GetUtcNow() });
            else if (!PasswordHasher.Verify(configured, admin.PasswordHash))
                admin.PasswordHash = PasswordHasher.Hash(configured);
            if (admin is not null) admin.Role = AccountRole.Admin;
            await db.SaveChangesAsync();
            logger.LogInformation("Dashboard admin password taken from DASHBOARD_ADMIN_PASSWORD");
            return;
        }
        if (admin is not null) return;

        var password = PasswordHasher.Generate();
        db.Accounts.Add(new Account { Name = AdminName, PasswordHash = PasswordHasher.Hash(password), Role = AccountRole.Admin, CreatedAt = clock.GetUtcNow() });
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException)
        {
            // Another dashboard replica created the account at the same moment; its password is in its log.
            return;
        }
        // Printed once, on purpose: this is how an operator learns the generated password.
        logger.LogWarning("Generated the dashboard password for user '{User}': {Password}  (set DASHBOARD_ADMIN_PASSWORD to choose one)", AdminName, password);
    }

    /// <summary>Checks a password, unless this client (address, and name from that address) must first wait out its failures.</summary>
    public async Task<SignInOutcome> SignInAsync(string? name, string? password, IPAddress? address, CancellationToken cancellationToken = default)
    {
        var accountName = (name ?? "").Trim().ToLowerInvariant();
        if (await throttling.WaitAsync(address, accountName, cancellationToken) is { } wait) return new(null, wait);
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(u => u.Name == accountName, cancellationToken);
        // An unknown name costs the same hash as a known one, so timing does not tell which names exist.
        bool verified = PasswordHasher.Verify(password ?? "", account?.PasswordHash ?? PasswordHasher.Unmatchable);
        if (account is not null && verified)
        {
            await throttling.SucceededAsync(address, accountName, cancellationToken);
            return new(account, null);
        }
        await throttling.FailedAsync(address, accountName, cancellationToken);
        logger.LogWarning("Failed sign-in for '{User}' from {Address}", accountName.Length > 100 ? accountName[..100] : accountName, address);
        return new(null, null);
    }

    public async Task<Account?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Name == name, cancellationToken);
    }

    public async Task<IReadOnlyList<Account>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        return await db.Accounts.AsNoTracking().OrderBy(a => a.Name).ToListAsync(cancellationToken);
    }

    /// <summary>Creates an account; null, or what is wrong with the request.</summary>
    public async Task<string?> CreateAsync(string name, string password, AccountRole role, CancellationToken cancellationToken = default)
    {
        name = name.Trim().ToLowerInvariant();
        if (!NamePattern().IsMatch(name)) return "The name must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.";
        if (PasswordProblem(password) is { } problem) return problem;
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        if (await db.Accounts.AnyAsync(a => a.Name == name, cancellationToken)) return $"There is already an account '{name}'.";
        db.Accounts.Add(new Account { Name = name, PasswordHash = PasswordHasher.Hash(password), Role = role, CreatedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Account '{User}' created as {Role}", name, role);
        return null;
    }

    public async Task<string?> SetRoleAsync(string name, AccountRole role, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        if (await db.Accounts.FirstOrDefaultAsync(a => a.Name == name, cancellationToken) is not { } account) return $"There is no account '{name}'.";
        if (account.Role == AccountRole.Admin && role != AccountRole.Admin && await LastAdminAsync(db, cancellationToken))
            return "This is the last admin: make another account admin first.";
        account.Role = role;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Account '{User}' is now {Role}", name, role);
        return null;
    }

    public async Task<string?> SetPasswordAsync(string name, string password, CancellationToken cancellationToken = default)
    {
        if (PasswordProblem(password) is { } problem) return problem;
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        int changed = await db.Accounts.Where(a => a.Name == name)
            .ExecuteUpdateAsync(a => a.SetProperty(x => x.PasswordHash, PasswordHasher.Hash(password)), cancellationToken);
        return changed == 1 ? null : $"There is no account '{name}'.";
    }

    /// <summary>Deletes an account and its tokens (never the last admin).</summary>
    public async Task<string?> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        if (await db.Accounts.FirstOrDefaultAsync(a => a.Name == name, cancellationToken) is not { } account) return $"There is no account '{name}'.";
        if (account.Role == AccountRole.Admin && await LastAdminAsync(db, cancellationToken)) return "This is the last admin and cannot be deleted.";
        db.Accounts.Remove(account);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Account '{User}' deleted", name);
        return null;
    }

    public static string? PasswordProblem(string? password) =>
        password is null || password.Length < MinPasswordLength ? $"The password must have at least {MinPasswordLength} characters." : null;

    private static async Task<bool> LastAdminAsync(JobsDbContext db, CancellationToken cancellationToken) =>
        await db.Accounts.CountAsync(a => a.Role == AccountRole.Admin, cancellationToken) <= 1;
}
