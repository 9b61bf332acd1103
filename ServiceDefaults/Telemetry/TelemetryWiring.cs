using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace SqueezeNext.ServiceDefaults.Telemetry;

/// <summary>OpenTelemetry metrics for a host, exported in Prometheus' text format on <c>/metrics</c>.</summary>
public static class TelemetryWiring
{
    /// <summary>MassTransit's and ASP.NET Core's meters, and the host's own <paramref name="meters"/>.</summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder, params string[] meters)
    {
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(["MassTransit", "Microsoft.AspNetCore.Hosting", .. meters])
            .AddPrometheusExporter());
        return builder;
    }

    /// <summary>The Prometheus scraping endpoint, open to anonymous callers like the health endpoints.</summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }
}
