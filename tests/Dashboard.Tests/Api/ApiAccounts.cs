using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Persistence;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>
/// Accounts and tokens for API tests, made with the dashboard's own account and token classes on the test's database,
/// as the dashboard's pages make them.
/// </summary>
public sealed class ApiAccounts(JobSystem system, Uri dashboard)
{
    private readonly Databases databases = new(system);

    public AccountStore Accounts(TimeProvider? clock = null) =>
        new(databases, new LoginThrottling(databases, clock ?? TimeProvider.System), new ConfigurationBuilder().Build(), clock ?? TimeProvider.System, NullLogger<AccountStore>.Instance);

    public ApiTokens Tokens(TimeProvider? clock = null) => new(databases, clock ?? TimeProvider.System, NullLogger<ApiTokens>.Instance);

    /// <summary>Creates an account with <paramref name="role"/> (unless it exists) and a 7-day token for it.</summary>
    public async Task<string> TokenAsync(string account, AccountRole role)
    {
        if (await Accounts().FindAsync(account) is null)
            Assert.Null(await Accounts().CreateAsync(account, "a-long-enough-password", role));
        return (await Tokens().CreateAsync(account, $"{account} test", TimeSpan.FromDays(7))).Secret;
    }

    /// <summary>A client of the dashboard that sends <paramref name="token"/> (none when null).</summary>
    public HttpClient Client(string? token)
    {
        var http = new HttpClient { BaseAddress = dashboard, Timeout = TimeSpan.FromMinutes(2) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private sealed class Databases(JobSystem system) : IDbContextFactory<JobsDbContext>
    {
        public JobsDbContext CreateDbContext() => system.Db();
    }
}
