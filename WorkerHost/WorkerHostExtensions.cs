using SqueezeNext.ServiceDefaults;
using SqueezeNext.ServiceDefaults.Health;
using SqueezeNext.ServiceDefaults.Messaging;
using SqueezeNext.ServiceDefaults.Telemetry;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Runtime;
using SqueezeNext.WorkerHost.Consumers;
using SqueezeNext.WorkerHost.Catalog;
using SqueezeNext.WorkerHost.Datasets;
using SqueezeNext.WorkerHost.Health;
using SqueezeNext.WorkerHost.Inference;
using SqueezeNext.WorkerHost.Memory;
using SqueezeNext.WorkerHost.Telemetry;

namespace SqueezeNext.WorkerHost;

/// <summary>The worker's wiring: options, consumers, job runner, model cache and its own health check and metrics, on the shared host defaults.</summary>
public static class WorkerHostExtensions
{
    public static WebApplicationBuilder AddWorkerServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<WorkerOptions>().Bind(configuration.GetSection(WorkerOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => Directory.Exists(o.DataRoot), "Worker:DataRoot must name an existing folder")
            .Validate(o => o.Datasets.ValidationFraction is >= 0 and <= 0.9 && o.Datasets.MaxArchiveEntries > 0 && o.Datasets.MaxExpandedBytes > 0
                && o.Datasets.MaxCompressionRatio >= 2, "Worker:Datasets: ValidationFraction 0 to 0.9, MaxArchiveEntries, MaxExpandedBytes above 0, MaxCompressionRatio at least 2")
            .Validate(o => o.StaleAfter > o.HeartbeatInterval * 2, "Worker:StaleAfter must be more than twice Worker:HeartbeatInterval")
            .Validate(o => InferenceEngines.Names.Contains(o.Classification.Engine),
                $"Worker:Classification:Engine must be {string.Join(" or ", InferenceEngines.Names)}")
            .ValidateOnStart();
        builder.AddServiceDefaults(new HostTelemetry("sqnxt-worker", Meters: [WorkerMetrics.MeterName, Vision.Runtime.EngineTelemetry.Name],
            ActivitySources: [WorkerTracing.SourceName, Vision.Runtime.EngineTelemetry.Name]));

        services.AddSingleton<DataRoot>();
        services.AddRunLifecycle();
        services.AddSingleton<JobPlanner>();
        services.AddSingleton<JobWork>();
        services.AddSingleton<DatasetImportJob>();
        services.AddSingleton<JobSignal>();
        services.AddSingleton<RunningJobs>();
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<WorkerMetrics>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<BatchingClassifier>();
        services.AddHostedService<JobRunner>();
        services.AddHostedService<StaleRunMonitor>();
        services.AddHostedService<DatasetScanner>();
        services.AddHostedService<StagingSweeper>();
        services.AddHostedService<ConfigurationPublisher>();
        services.AddHostedService<NativeHeapTrimmer>();

        builder.AddJobsBus(bus =>
        {
            bus.AddConsumer<SubmitTrainingConsumer, SubmitTrainingConsumerDefinition>();
            bus.AddConsumer<SubmitEvaluationConsumer, SubmitEvaluationConsumerDefinition>();
            bus.AddConsumer<CancelRunConsumer, CancelRunConsumerDefinition>();
            bus.AddConsumer<ResumeRunConsumer, ResumeRunConsumerDefinition>();
            bus.AddConsumer<RegisterModelConsumer, RegisterModelConsumerDefinition>();
            bus.AddConsumer<ImportModelConsumer, ImportModelConsumerDefinition>();
            bus.AddConsumer<PromoteModelConsumer, PromoteModelConsumerDefinition>();
            bus.AddConsumer<ClassifyImageConsumer, ClassifyImageConsumerDefinition>();
            bus.AddConsumer<ExportModelConsumer, ExportModelConsumerDefinition>();
            bus.AddConsumer<ImportDatasetConsumer, ImportDatasetConsumerDefinition>();
        });
        if (builder.Configuration[$"{MessageDataOptions.Section}:Directory"] is { Length: > 0 })
            services.AddHostedService<MessageDataSweeper>();
        services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = TimeSpan.FromSeconds(60);
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        // Enough for a running job to write its checkpoint and hand its run back.
        services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(90));

        services.AddHealthChecks().AddCheck<ServingModelHealthCheck>("serving-model", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    public static WebApplication MapWorkerEndpoints(this WebApplication app)
    {
        app.MapDefaultEndpoints();
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
}
