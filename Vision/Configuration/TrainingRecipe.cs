using System.Text.Json;
using System.Text.Json.Serialization;
using SqueezeNext.Contracts;

namespace SqueezeNext.Vision.Configuration;

/// <summary>Which pre-processing pipeline a configuration trains and evaluates with (SQUEEZENEXT.md §6).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PreprocessingKind>))]
public enum PreprocessingKind
{
    /// <summary>The TF port's pipeline: 256×256 resize, 227 crop, RGB mean (123, 117, 104) subtracted, 0–255 scale.</summary>
    TfSeed,

    /// <summary>torchvision's: short side to 256, centre 224 crop, [0, 1] scale, ImageNet mean and std.</summary>
    Torchvision,
}

/// <summary>
/// How a configuration is trained: SGD with momentum and a polynomial learning-rate decay after a linear warmup
/// (SQUEEZENEXT.md §5). Values are those of the reference the configuration comes from.
/// </summary>
public sealed record TrainingRecipe
{
    /// <summary>Images per optimiser step.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 120;

    /// <summary>Learning rate at the end of warmup, the start of the polynomial decay.</summary>
    public double BaseLearningRate { get; init; } = 0.1;

    /// <summary>Learning rate the polynomial decay ends at.</summary>
    public double EndLearningRate { get; init; } = 1e-4;

    /// <summary>Power of the polynomial decay.</summary>
    public double PolyPower { get; init; } = 2;

    /// <summary>Steps of linear warmup from <see cref="WarmupStartLearningRate"/>.</summary>
    public int WarmupSteps { get; init; } = 3120;

    /// <summary>Learning rate at step 0.</summary>
    public double WarmupStartLearningRate { get; init; } = 0.025;

    /// <summary>SGD momentum (PyTorch form: the learning rate multiplies the velocity update).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay on every learnable tensor; the TF port configures 1e-4 but never applies it.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Share of each one-hot target spread evenly over all classes; 0 (the references' softmax cross-entropy) turns it off.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Random horizontal flip during training (the TF port flips; Caffe does not).</summary>
    public bool HorizontalFlip { get; init; } = true;

    /// <summary>Pre-processing pipeline for training and evaluation.</summary>
    public PreprocessingKind Preprocessing { get; init; } = PreprocessingKind.TfSeed;

    /// <summary>Weight initialisation of a new network.</summary>
    public WeightInit Init { get; init; } = WeightInit.XavierUniform;

    /// <summary>
    /// Before each evaluation and at the end, recompute BatchNorm statistics over this many training batches with
    /// the current weights (0: keep the running averages, as the references do). Short runs need it: at a decay of
    /// 0.999 the running averages lag far behind the weights for thousands of steps.
    /// </summary>
    public int PreciseBatchNormBatches { get; init; }

    /// <summary>The training objective on a batch: softmax cross-entropy of the logits against the labels, smoothed by <see cref="LabelSmoothing"/>.</summary>
    public TorchSharp.torch.Tensor Loss(TorchSharp.torch.Tensor logits, TorchSharp.torch.Tensor labels) =>
        TorchSharp.torch.nn.functional.cross_entropy(logits, labels, label_smoothing: LabelSmoothing);

    /// <summary>Problems with these values, each prefixed with the JSON path of its field; the values a run may override are checked against their settings (<see cref="TrainingSettings.Fields"/>).</summary>
    public IReadOnlyList<string> Validate(string prefix = "training")
    {
        var problems = new List<string>();
        void Require(bool condition, string field, string message)
        {
            if (!condition) problems.Add($"{prefix}.{field}: {message}");
        }
        static bool Finite(double value) => double.IsFinite(value);

        var values = JsonSerializer.SerializeToElement(this, ConfigurationJson.Options);
        foreach (var field in TrainingSettings.Fields.Where(f => f.Recipe is not null))
        {
            double value = values.GetProperty(field.Recipe!).GetDouble();
            if (!field.Accepts(value)) problems.Add(field.Problem(value, $"{prefix}.{field.Recipe}"));
        }
        Require(Finite(EndLearningRate) && EndLearningRate >= 0 && EndLearningRate <= BaseLearningRate, "endLearningRate",
            $"{EndLearningRate} must be a number in [0, baseLearningRate]");
        Require(Finite(PolyPower) && PolyPower > 0 && PolyPower <= 10, "polyPower", $"{PolyPower} must be a number in (0, 10]");
        Require(Finite(WarmupStartLearningRate) && WarmupStartLearningRate >= 0 && WarmupStartLearningRate <= 100,
            "warmupStartLearningRate", $"{WarmupStartLearningRate} must be a number in [0, 100]");
        Require(Finite(Momentum) && Momentum >= 0 && Momentum < 1, "momentum", $"{Momentum} must be a number in [0, 1)");
        Require(Enum.IsDefined(Preprocessing), "preprocessing", $"'{Preprocessing}' is not TfSeed or Torchvision");
        Require(Enum.IsDefined(Init), "init", $"'{Init}' is not XavierUniform or KaimingNormal");
        return problems;
    }
}
