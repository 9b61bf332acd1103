namespace SqueezeNext.WorkerHost.Consumers;

/// <summary>
/// Command consumers retry transient failures (a database restarting) a few times with growing delays; a command
/// that still fails goes to the endpoint's _error queue instead of looping. Invalid commands never throw: they are
/// recorded and answered as rejected.
/// </summary>
public abstract class CommandConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected CommandConsumerDefinition(string endpointName)
    {
        EndpointName = endpointName;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(6, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(500)));
    }
}

public sealed class SubmitTrainingConsumerDefinition() : CommandConsumerDefinition<SubmitTrainingConsumer>(QueueNames.SubmitTraining);

public sealed class SubmitEvaluationConsumerDefinition() : CommandConsumerDefinition<SubmitEvaluationConsumer>(QueueNames.SubmitEvaluation);

public sealed class CancelRunConsumerDefinition() : CommandConsumerDefinition<CancelRunConsumer>(QueueNames.CancelRun);

public sealed class ResumeRunConsumerDefinition() : CommandConsumerDefinition<ResumeRunConsumer>(QueueNames.ResumeRun);

public sealed class RegisterModelConsumerDefinition() : CommandConsumerDefinition<RegisterModelConsumer>(QueueNames.RegisterModel);

public sealed class ImportModelConsumerDefinition() : CommandConsumerDefinition<ImportModelConsumer>(QueueNames.ImportModel);

public sealed class PromoteModelConsumerDefinition() : CommandConsumerDefinition<PromoteModelConsumer>(QueueNames.PromoteModel);

public sealed class ImportDatasetConsumerDefinition() : CommandConsumerDefinition<ImportDatasetConsumer>(QueueNames.ImportDataset);

/// <summary>Exports build a graph and check it beside TorchSharp: two at a time per worker are plenty.</summary>
public sealed class ExportModelConsumerDefinition : ConsumerDefinition<ExportModelConsumer>
{
    public ExportModelConsumerDefinition()
    {
        EndpointName = QueueNames.ExportModel;
        ConcurrentMessageLimit = 2;
    }
}

/// <summary>
/// Classification: enough requests consumed at once to fill every concurrent forward pass twice over, which
/// <see cref="Inference.BatchingClassifier"/> gathers into forward passes.
/// </summary>
public sealed class ClassifyImageConsumerDefinition : ConsumerDefinition<ClassifyImageConsumer>
{
    private readonly ClassificationOptions settings;

    public ClassifyImageConsumerDefinition(IOptions<WorkerOptions> options)
    {
        settings = options.Value.Classification;
        EndpointName = QueueNames.ClassifyImage;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ClassifyImageConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Enough requests in flight to fill the forward passes running now and the next ones: the batches form in the
        // worker, and requests being decoded or answered are in flight too.
        int inFlight = Math.Max(16, settings.MaxBatchSize * (settings.ConcurrentPasses + 2));
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.PrefetchCount = inFlight;
        endpointConfigurator.ConcurrentMessageLimit = inFlight;
    }
}
