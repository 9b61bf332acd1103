using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using SqueezeNext.ServiceDefaults.Database;
using SqueezeNext.ServiceDefaults.Health;
using SqueezeNext.ServiceDefaults.Telemetry;

namespace SqueezeNext.ServiceDefaults;

/// <summary>What every host of the product has in common: the jobs database with its readiness check, and telemetry.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The jobs database, and OpenTelemetry traces and metrics with the host's own (<see cref="TelemetryWiring"/>).</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, HostTelemetry telemetry)
    {
        builder.AddJobsDatabase();
        builder.AddTelemetry(telemetry);
        return builder;
    }

    /// <summary><c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c>.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthEndpoints();
        app.MapMetricsEndpoint();
        return app;
    }
}
