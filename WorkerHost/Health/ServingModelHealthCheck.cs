using Microsoft.Extensions.Diagnostics.HealthChecks;
using SqueezeNext.WorkerHost.Inference;

namespace SqueezeNext.WorkerHost.Health;

/// <summary>Ready only when the default serving model, if there is one, loads.</summary>
public sealed class ServingModelHealthCheck(ModelCache models) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var model = await models.TryGetDefaultAsync(cancellationToken);
            return model is null
                ? HealthCheckResult.Healthy("no model is serving yet")
                : HealthCheckResult.Healthy($"serving {model.Version.Name} v{model.Version.Version}");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy($"the serving model cannot be loaded: {e.Message}");
        }
    }
}
