using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SqueezeNext.Persistence;
using SqueezeNext.ServiceDefaults.Health;

namespace SqueezeNext.ServiceDefaults.Database;

/// <summary>The jobs database for a host: its contexts, its readiness check, and its migrations at start.</summary>
public static class JobsDatabaseWiring
{
    /// <summary>
    /// A context factory for long-lived services, a scoped context (from that factory) for consumers and request
    /// scopes, and the "postgres" readiness check. A missing connection string refuses the start.
    /// </summary>
    public static IHostApplicationBuilder AddJobsDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = JobsDatabase.ConnectionString(builder.Configuration);
        builder.Services.AddDbContextFactory<JobsDbContext>(db => db.UseNpgsql(connectionString));
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<JobsDbContext>>().CreateDbContext());
        builder.Services.AddHealthChecks().AddCheck<JobsDatabaseHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    /// <summary>Applies the migrations, waiting up to a minute for the database to accept connections.</summary>
    public static Task MigrateJobsDatabaseAsync(this WebApplication app) =>
        JobsDatabase.MigrateAsync(app.Services.GetRequiredService<IDbContextFactory<JobsDbContext>>(),
            app.Services.GetRequiredService<ILogger<JobsDbContext>>(), TimeSpan.FromMinutes(1));
}
