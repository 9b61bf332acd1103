using Microsoft.Extensions.Diagnostics.HealthChecks;
using SqueezeNext.Persistence;

namespace SqueezeNext.WorkerHost.Health;

/// <summary>Ready only while PostgreSQL answers.</summary>
public sealed class DatabaseHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            return await db.Database.CanConnectAsync(timeout.Token)
                ? HealthCheckResult.Healthy("PostgreSQL answers")
                : HealthCheckResult.Unhealthy("PostgreSQL does not answer");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL does not answer: {e.Message}");
        }
    }
}
