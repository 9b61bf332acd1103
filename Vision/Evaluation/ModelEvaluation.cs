using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Onnx;
using SqueezeNext.Vision.Training;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Evaluation;

/// <summary>What one evaluation of a saved model needs.</summary>
public sealed record EvaluationOptions
{
    /// <summary>A model directory (a final model, a checkpoint or a registered version).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>Dataset directory whose split is evaluated.</summary>
    public required string DataDirectory { get; init; }

    public DatasetSplit Split { get; init; } = DatasetSplit.Validation;

    /// <summary>Evaluate only the first N images; null: all.</summary>
    public int? MaxImages { get; init; }

    public int BatchSize { get; init; } = 64;

    public int LoaderThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "auto";

    public InferenceEngine Engine { get; init; } = InferenceEngines.Default;
}

/// <summary>An evaluation's result, with what was evaluated on what.</summary>
public sealed record ModelEvaluationResult(EvaluationReport Result, string DatasetDescription, string ConfigurationName);

/// <summary>
/// Evaluates a saved model on a dataset split (the engine's entry point beside <see cref="Trainer"/>, used by the
/// worker's evaluation jobs and <c>sqnxt eval</c>). Call it on a dedicated thread, as the trainer.
/// </summary>
public static class ModelEvaluation
{
    /// <param name="onProgress">Called after each batch with the images done and the images to do.</param>
    public static ModelEvaluationResult Run(EvaluationOptions options, Action<long, long>? onProgress = null, CancellationToken cancellationToken = default)
    {
        if (options.BatchSize is < 1 or > 4096) throw new ArgumentException($"batch size {options.BatchSize} is outside 1..4096");
        if (options.MaxImages is < 1) throw new ArgumentException($"max images {options.MaxImages} must be at least 1");
        using var model = ModelArtifact.Load(options.ModelDirectory);
        var dataset = DatasetReader.Open(options.DataDirectory, options.Split, LabelSpace.ClassOrderOf(model.Manifest));
        int outputs = model.Configuration.Architecture.NumClasses;
        if (dataset.Classes.Count != outputs)
            throw new DatasetException($"{dataset.Description} has {dataset.Classes.Count} classes but the model has {outputs} outputs");
        var loader = new BatchLoader(dataset, ImagePreprocessor.For(model.Configuration), new LoaderOptions
        {
            BatchSize = options.BatchSize, Threads = options.LoaderThreads,
        });
        var device = DeviceSelector.Resolve(options.Device);
        long total = Math.Min(dataset.Count, options.MaxImages ?? int.MaxValue);
        Action<int> progress = done => onProgress?.Invoke(done, total);
        EvaluationReport result;
        if (options.Engine == InferenceEngine.OnnxRuntime)
        {
            using var forwardPass = new OnnxRuntimeForwardPass(OnnxModelFile.For(model, options.ModelDirectory), model.Configuration.Architecture.InputSize,
                device, get_num_threads());
            result = Evaluator.Evaluate(forwardPass, outputs, loader, options.MaxImages, progress, cancellationToken);
        }
        else
        {
            model.Network.to(device);
            result = Evaluator.Evaluate(model.Network, loader, device, options.MaxImages, progress, cancellationToken);
        }
        return new ModelEvaluationResult(result, dataset.Description, model.Configuration.Name);
    }
}
