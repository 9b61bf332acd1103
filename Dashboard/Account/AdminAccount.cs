using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Account;

/// <summary>The outcome of a sign-in attempt.</summary>
public enum SignInResult
{
    Success,
    WrongCredentials,
    LockedOut,
}

/// <summary>
/// The dashboard's one admin account. Its password comes from DASHBOARD_ADMIN_PASSWORD when set (the stored hash
/// follows it); otherwise one is generated at first start, stored hashed and printed once to the log. Repeated
/// failures lock the account for a while.
/// </summary>
public sealed class AdminAccount(IDbContextFactory<JobsDbContext> databases, IConfiguration configuration, ILogger<AdminAccount> logger)
{
    public const string UserName = "admin";
    public const int MaxFailedAttempts = 5;
    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(5);

    public async Task EnsureCreatedAsync()
    {
        await using var db = await databases.CreateDbContextAsync();
        var user = await db.DashboardUsers.FirstOrDefaultAsync(u => u.Name == UserName);
        var configured = configuration["DASHBOARD_ADMIN_PASSWORD"];
        if (!string.IsNullOrEmpty(configured))
        {
            if (user is null)
            {
                db.DashboardUsers.Add(new DashboardUser { Name = UserName, PasswordHash = PasswordHasher.Hash(configured), CreatedAt = DateTimeOffset.UtcNow });
            }
            else if (!PasswordHasher.Verify(configured, user.PasswordHash))
            {
                user.PasswordHash = PasswordHasher.Hash(configured);
                user.FailedAttempts = 0;
                user.LockedUntil = null;
            }
            await db.SaveChangesAsync();
            logger.LogInformation("Dashboard admin password taken from DASHBOARD_ADMIN_PASSWORD");
            return;
        }
        if (user is not null) return;

        var password = PasswordHasher.Generate();
        db.DashboardUsers.Add(new DashboardUser { Name = UserName, PasswordHash = PasswordHasher.Hash(password), CreatedAt = DateTimeOffset.UtcNow });
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
        logger.LogWarning("Generated the dashboard password for user '{User}': {Password}  (set DASHBOARD_ADMIN_PASSWORD to choose one)", UserName, password);
    }

    public async Task<SignInResult> SignInAsync(string? name, string? password)
    {
        await using var db = await databases.CreateDbContextAsync();
        var user = await db.DashboardUsers.FirstOrDefaultAsync(u => u.Name == (name ?? ""));
        if (user is null || password is null) return SignInResult.WrongCredentials;
        var now = DateTimeOffset.UtcNow;
        if (user.LockedUntil is { } until && until > now) return SignInResult.LockedOut;
        if (PasswordHasher.Verify(password, user.PasswordHash))
        {
            user.FailedAttempts = 0;
            user.LockedUntil = null;
            await db.SaveChangesAsync();
            return SignInResult.Success;
        }
        user.FailedAttempts++;
        if (user.FailedAttempts >= MaxFailedAttempts)
        {
            user.LockedUntil = now + LockoutDuration;
            user.FailedAttempts = 0;
            logger.LogWarning("Dashboard account '{User}' locked for {Minutes} minutes after {Attempts} failed sign-ins", user.Name, LockoutDuration.TotalMinutes, MaxFailedAttempts);
        }
        await db.SaveChangesAsync();
        return user.LockedUntil > now ? SignInResult.LockedOut : SignInResult.WrongCredentials;
    }
}
