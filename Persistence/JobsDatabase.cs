using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace SqueezeNext.Persistence;

/// <summary>Bringing the database schema up to date at host start (the worker and the dashboard both do it).</summary>
public static class JobsDatabase
{
    /// <summary>
    /// ConnectionStrings:Postgres. Missing, it is an invalid setting like any other, so the host refuses to start
    /// in one line naming it (an <see cref="OptionsValidationException"/>, as the options validation throws).
    /// </summary>
    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Postgres") is { } value && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new OptionsValidationException("ConnectionStrings", typeof(string), ["ConnectionStrings:Postgres is not set (ConnectionStrings__Postgres)"]);

    /// <summary>
    /// Applies the EF Core migrations, waiting up to <paramref name="wait"/> for PostgreSQL to accept connections (in
    /// compose the hosts may start first). EF Core's migration lock makes concurrent starts safe.
    /// </summary>
    public static async Task MigrateAsync(IDbContextFactory<JobsDbContext> databases, ILogger logger, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                await using var db = await databases.CreateDbContextAsync();
                await db.Database.MigrateAsync();
                return;
            }
            catch (Exception e) when (DateTime.UtcNow < deadline && e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                logger.LogWarning("Database not reachable yet ({Message}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }
}
