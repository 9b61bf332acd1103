using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Data;

/// <summary>
/// The new-training form. Hyper-parameters start at the chosen configuration's values; the ranges here give
/// messages next to the fields, and the worker's own validation (named in the answer) is the final word.
/// </summary>
public sealed class TrainingForm
{
    public const string CustomConfiguration = "(custom JSON)";

    [Required(ErrorMessage = "Choose a configuration.")]
    public string Configuration { get; set; } = "";

    /// <summary>A configuration document (a base and overrides) when <see cref="Configuration"/> is custom.</summary>
    public string? ConfigurationJson { get; set; }

    [Required(ErrorMessage = "Choose a dataset.")]
    public string Dataset { get; set; } = "";

    [StringLength(200)]
    public string? Name { get; set; }

    [Range(1, 10_000, ErrorMessage = "Epochs must be between 1 and 10,000.")]
    public int Epochs { get; set; } = 1;

    [Range(1L, 1_000_000_000L, ErrorMessage = "Steps must be at least 1 (leave empty to train by epochs).")]
    public long? MaxSteps { get; set; }

    [Range(1, 65_536, ErrorMessage = "Batch size must be between 1 and 65,536.")]
    public int BatchSize { get; set; } = 128;

    [Range(1e-7, 100, ErrorMessage = "The learning rate must be above 0 and at most 100.")]
    public double LearningRate { get; set; } = 0.1;

    [Range(0, 100_000_000, ErrorMessage = "Warmup steps cannot be negative.")]
    public int WarmupSteps { get; set; }

    [Range(0, 1, ErrorMessage = "Weight decay must be between 0 and 1.")]
    public double WeightDecay { get; set; }

    [Range(0, 10_000, ErrorMessage = "Precise-BN batches must be between 0 and 10,000.")]
    public int PreciseBatchNormBatches { get; set; }

    [Range(0, 100_000_000, ErrorMessage = "Evaluate every 0 (each epoch) or more steps.")]
    public int EvalEverySteps { get; set; }

    [Range(1, 100_000_000, ErrorMessage = "Evaluate on at least one image (leave empty for all).")]
    public int? EvalMaxImages { get; set; }

    [Range(0, 100_000_000, ErrorMessage = "Checkpoint every 0 (by time) or more steps.")]
    public int CheckpointEverySteps { get; set; }

    [Range(0, 1440, ErrorMessage = "Checkpoint every 0 to 1,440 minutes.")]
    public double CheckpointEveryMinutes { get; set; } = 10;

    public long Seed { get; set; }

    /// <summary>Takes the recipe values of a configuration document (from the configurations table or a run).</summary>
    public void ApplyDefaults(string configurationJson)
    {
        using var document = JsonDocument.Parse(configurationJson);
        if (!document.RootElement.TryGetProperty("training", out var training)) return;
        Epochs = Read(training, "epochs", Epochs);
        BatchSize = Read(training, "batchSize", BatchSize);
        LearningRate = Read(training, "baseLearningRate", LearningRate);
        WarmupSteps = Read(training, "warmupSteps", WarmupSteps);
        WeightDecay = Read(training, "weightDecay", WeightDecay);
        PreciseBatchNormBatches = Read(training, "preciseBatchNormBatches", PreciseBatchNormBatches);
    }

    /// <summary>Takes everything a previous run was submitted with (clone with changes).</summary>
    public void CopyFrom(Run run)
    {
        var request = JsonSerializer.Deserialize<SubmitTraining>(run.RequestJson, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        Configuration = run.ConfigurationName;
        ApplyDefaults(run.ConfigurationJson);
        Dataset = run.Dataset;
        Name = $"{run.Name} (clone)";
        if (request is null) return;
        Epochs = request.Epochs ?? Epochs;
        BatchSize = request.BatchSize ?? BatchSize;
        LearningRate = request.LearningRate ?? LearningRate;
        WarmupSteps = request.WarmupSteps ?? WarmupSteps;
        WeightDecay = request.WeightDecay ?? WeightDecay;
        PreciseBatchNormBatches = request.PreciseBatchNormBatches ?? PreciseBatchNormBatches;
        MaxSteps = request.MaxSteps;
        EvalEverySteps = request.EvalEverySteps ?? 0;
        EvalMaxImages = request.EvalMaxImages;
        CheckpointEverySteps = request.CheckpointEverySteps ?? 0;
        CheckpointEveryMinutes = request.CheckpointEveryMinutes ?? CheckpointEveryMinutes;
        Seed = request.Seed ?? 0;
    }

    public SubmitTraining ToCommand(Guid runId, string? customJson = null) => new(
        runId,
        Configuration == CustomConfiguration ? "" : Configuration,
        Dataset,
        ConfigurationJson: Configuration == CustomConfiguration ? customJson ?? ConfigurationJson : customJson,
        Name: string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
        Epochs: Epochs,
        MaxSteps: MaxSteps,
        BatchSize: BatchSize,
        LearningRate: LearningRate,
        WarmupSteps: WarmupSteps,
        WeightDecay: WeightDecay,
        PreciseBatchNormBatches: PreciseBatchNormBatches,
        Seed: Seed,
        EvalEverySteps: EvalEverySteps,
        EvalMaxImages: EvalMaxImages,
        CheckpointEverySteps: CheckpointEverySteps,
        CheckpointEveryMinutes: CheckpointEveryMinutes);

    private static T Read<T>(JsonElement element, string name, T fallback) =>
        element.TryGetProperty(name, out var value) ? value.Deserialize<T>() ?? fallback : fallback;
}
