using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Hosting;
using SqueezeNext.ServiceDefaults.Database;
using SqueezeNext.ServiceDefaults.Health;
using SqueezeNext.ServiceDefaults.Telemetry;

namespace SqueezeNext.ServiceDefaults;

/// <summary>What every host of the product has in common: the jobs database with its readiness check, and telemetry.</summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The jobs database, OpenTelemetry traces and metrics with the host's own (<see cref="TelemetryWiring"/>), and readable JSON logs.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, HostTelemetry telemetry)
    {
        builder.AddJobsDatabase();
        builder.AddTelemetry(telemetry);
        // The JSON console logs (the images') are read by people and log tools, never put in a web page: quotes and
        // apostrophes stay as they are instead of \u0027 escapes.
        builder.Services.Configure<JsonConsoleFormatterOptions>(json =>
            json.JsonWriterOptions = json.JsonWriterOptions with { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
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
