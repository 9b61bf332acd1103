using MassTransit;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.Vision.Runtime;
using SqueezeNext.WorkerHost.Consumers;
using SqueezeNext.WorkerHost.Datasets;
using SqueezeNext.WorkerHost.Health;
using SqueezeNext.WorkerHost.Inference;
using SqueezeNext.WorkerHost.Jobs;
using SqueezeNext.WorkerHost.Memory;
using SqueezeNext.WorkerHost.Options;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost;

/// <summary>The worker's wiring: options, database, bus and consumers, job runner, model cache, health and metrics.</summary>
public static class WorkerHostExtensions
{
    public static WebApplicationBuilder AddWorkerServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => Directory.Exists(o.DataRoot), "Worker:DataRoot must name an existing folder")
            .Validate(o => o.StaleAfter > o.HeartbeatInterval * 2, "Worker:StaleAfter must be more than twice Worker:HeartbeatInterval")
            .ValidateOnStart();
        services.AddOptions<RabbitMqOptions>().Bind(configuration.GetSection(RabbitMqOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

        var connectionString = JobsDatabase.ConnectionString(configuration);
        services.AddDbContext<JobsDbContext>(db => db.UseNpgsql(connectionString));
        services.AddDbContextFactory<JobsDbContext>(db => db.UseNpgsql(connectionString), ServiceLifetime.Scoped);

        services.AddSingleton<DataRoot>();
        services.AddSingleton<JobPlanner>();
        services.AddSingleton<JobWork>();
        services.AddSingleton<JobSignal>();
        services.AddSingleton<RunningJobs>();
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<WorkerMetrics>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<BatchingClassifier>();
        services.AddHostedService<JobRunner>();
        services.AddHostedService<StaleRunMonitor>();
        services.AddHostedService<DatasetScanner>();
        services.AddHostedService<ConfigurationPublisher>();
        services.AddHostedService<NativeHeapTrimmer>();

        services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddConsumer<SubmitTrainingConsumer, SubmitTrainingConsumerDefinition>();
            bus.AddConsumer<SubmitEvaluationConsumer, SubmitEvaluationConsumerDefinition>();
            bus.AddConsumer<CancelRunConsumer, CancelRunConsumerDefinition>();
            bus.AddConsumer<ResumeRunConsumer, ResumeRunConsumerDefinition>();
            bus.AddConsumer<RegisterModelConsumer, RegisterModelConsumerDefinition>();
            bus.AddConsumer<ImportModelConsumer, ImportModelConsumerDefinition>();
            bus.AddConsumer<PromoteModelConsumer, PromoteModelConsumerDefinition>();
            bus.AddConsumer<ClassifyImageConsumer, ClassifyImageConsumerDefinition>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var settings = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(settings.Host, (ushort)settings.Port, settings.VirtualHost, host =>
                {
                    host.Username(settings.Username);
                    host.Password(settings.Password);
                });
                rabbit.ConfigureEndpoints(context);
            });
        });
        services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = TimeSpan.FromSeconds(60);
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        // Enough for a running job to write its checkpoint and hand its run back.
        services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(90));

        services.AddHealthChecks()
            .AddCheck<JobsDatabaseHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<ServingModelHealthCheck>("serving-model", tags: ["ready"]);

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(WorkerMetrics.MeterName, "MassTransit")
            .AddPrometheusExporter());
        return builder;
    }

    public static WebApplication MapWorkerEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResponseWriter = HealthReportWriter.WriteAsync,
            // MassTransit reports a lost broker connection as Degraded, which ASP.NET answers with 200 by default; a
            // worker whose queues are unreachable must not count as ready.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/", () => Results.Text("SqueezeNext worker: /health/live, /health/ready, /metrics"));
        return app;
    }

    /// <summary>
    /// Caps glibc's heap arenas where the environment has not set glibc up already (<see cref="NativeHeap.TrainingEnvironment"/>)
    /// and sets libtorch's thread count, before any tensor is allocated.
    /// </summary>
    public static void ConfigureTorch(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<WorkerOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SqueezeNext.WorkerHost.NativeHeap");
        if (NativeHeap.HasTrainingEnvironment)
        {
            logger.LogInformation("Tensors are allocated by glibc's malloc set up for training by the environment, its free pages returned " +
                                  "after {Interval} without classification (every {UnderLoad} under load) while no training or evaluation runs",
                options.HeapTrimInterval, options.HeapTrimIntervalUnderLoad);
        }
        else if (NativeHeap.IsGlibcMalloc)
        {
            if (options.MallocArenas > 0) NativeHeap.LimitArenas(options.MallocArenas);
            logger.LogInformation("Tensors are allocated by glibc's malloc, {Arenas} arenas, its free pages returned after {Interval} without classification " +
                                  "(every {UnderLoad} under load) while no training or evaluation runs; start the worker with {Settings} for faster training",
                options.MallocArenas, options.HeapTrimInterval, options.HeapTrimIntervalUnderLoad,
                string.Join(" ", NativeHeap.TrainingEnvironment.Select(setting => $"{setting.Key}={setting.Value}")));
        }
        else
        {
            logger.LogInformation("Tensors are allocated by {Allocator}", NativeHeap.Allocator);
        }
        if (options.TorchThreads is { } threads) TorchSharp.torch.set_num_threads(threads);
    }

    /// <summary>Applies EF Core migrations, waiting up to a minute for the database to accept connections.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        using var scope = app.Services.CreateScope();
        await JobsDatabase.MigrateAsync(scope.ServiceProvider.GetRequiredService<IDbContextFactory<JobsDbContext>>(),
            app.Services.GetRequiredService<ILogger<JobsDbContext>>(), TimeSpan.FromMinutes(1));
    }
}
