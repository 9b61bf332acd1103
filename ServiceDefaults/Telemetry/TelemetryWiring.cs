using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace SqueezeNext.ServiceDefaults.Telemetry;

/// <summary>What a host adds to the shared telemetry: its service name, its own meters and its own activity sources.</summary>
public sealed record HostTelemetry(string ServiceName, IReadOnlyList<string> Meters, IReadOnlyList<string> ActivitySources);

/// <summary>
/// OpenTelemetry for a host: traces from ASP.NET Core, MassTransit, Npgsql, HttpClient and the host's own sources;
/// metrics from the runtime, ASP.NET Core, MassTransit and the host's own meters, on <c>/metrics</c> for Prometheus.
/// Both, and the logs, also go out over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (<see cref="OtlpSignals"/>), and nowhere else.
/// </summary>
public static class TelemetryWiring
{
    /// <summary>The standard variable of the OpenTelemetry SDKs; its protocol and other settings come from theirs too.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder, HostTelemetry host)
    {
        var otlp = OtlpSignals.From(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(host.ServiceName, serviceInstanceId: Environment.MachineName));
        // Off only on request: without a listener no span exists, so no trace context crosses the broker and the logs carry no TraceId.
        if (!TracingTurnedOff(builder.Configuration))
            telemetry.WithTracing(tracing =>
            {
                tracing
                    .SetSampler(new ParentBasedSampler(new NoBackgroundClientSpans()))
                    .AddSource(["MassTransit", .. host.ActivitySources])
                    .AddAspNetCoreInstrumentation(options => options.Filter = IsTraced)
                    .AddHttpClientInstrumentation()
                    .AddNpgsql();
                if (otlp.Traces) tracing.AddOtlpExporter();
            });
        telemetry.WithMetrics(metrics =>
            {
                metrics
                    .AddMeter(["MassTransit", .. host.Meters])
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (otlp.Metrics) metrics.AddOtlpExporter();
            });
        if (otlp.Logs)
            // With their scopes (RunId, RequestId) and the span they were written in.
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeScopes = true;
                logging.IncludeFormattedMessage = true;
                logging.AddOtlpExporter();
            });
        return builder;
    }

    /// <summary>OTEL_TRACES_SAMPLER=always_off, the SDKs' standard way to record no spans at all.</summary>
    private static bool TracingTurnedOff(IConfiguration configuration) =>
        string.Equals(configuration["OTEL_TRACES_SAMPLER"], "always_off", StringComparison.OrdinalIgnoreCase);

    /// <summary>Requests worth a trace: not the probes and scrapes that arrive every few seconds, nor static files.</summary>
    private static bool IsTraced(HttpContext context) =>
        !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics") &&
        !context.Request.Path.StartsWithSegments("/_framework") && !context.Request.Path.StartsWithSegments("/_content");

    /// <summary>The Prometheus scraping endpoint, open to anonymous callers like the health endpoints.</summary>
    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    /// <summary>
    /// Which signals go out over OTLP: none without OTEL_EXPORTER_OTLP_ENDPOINT; with it, each signal unless its
    /// OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER or OTEL_LOGS_EXPORTER (the SDKs' standard variables) leaves out
    /// "otlp", as compose does for metrics that Prometheus already scrapes.
    /// </summary>
    private sealed record OtlpSignals(bool Traces, bool Metrics, bool Logs)
    {
        public static OtlpSignals From(IConfiguration configuration)
        {
            if (string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable])) return new(false, false, false);
            bool Exported(string variable) => configuration[variable] is not { Length: > 0 } exporters
                                              || exporters.Split(',', StringSplitOptions.TrimEntries).Contains("otlp", StringComparer.OrdinalIgnoreCase);
            return new(Exported("OTEL_TRACES_EXPORTER"), Exported("OTEL_METRICS_EXPORTER"), Exported("OTEL_LOGS_EXPORTER"));
        }
    }
}
