using SqueezeNext.Vision.Inference;

namespace SqueezeNext.Cli.Commands;

/// <summary>The options of every command that runs the engine, named and described once.</summary>
public static class EngineOptions
{
    public static Option<string> Device() => new("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };

    public static Option<int?> TorchThreads() => new("--threads") { Description = "libtorch threads (default: one per core)." };

    public static Option<string> InferenceEngine()
    {
        var option = new Option<string>("--engine")
        {
            Description = $"Inference engine: {string.Join(" or ", InferenceEngines.Names)}.",
            DefaultValueFactory = _ => InferenceEngines.Name(InferenceEngines.Default),
        };
        option.AcceptOnlyFromAmong([.. InferenceEngines.Names]);
        return option;
    }

    public static Option<int> LoaderThreads() =>
        new("--loader-threads") { Description = "Image decoding threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
}
