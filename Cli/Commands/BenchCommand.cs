using System.Diagnostics;
using SqueezeNext.Vision.Data;
using Microsoft.ML.OnnxRuntime;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Runtime;
using SqueezeNext.Vision.Training;
using TorchSharp;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// <c>sqnxt bench</c>: training-step or inference throughput on synthetic input, the input pipeline's throughput on
/// real JPEGs, or the machine's matrix-multiply peak through libtorch. scripts/bench.sh runs the suite next to PyTorch.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Configuration name or JSON file.", DefaultValueFactory = _ => ConfigurationCatalog.DefaultName };
        var mode = new Option<string>("--mode")
        {
            Description = "train, infer, data (decode and augment JPEGs on --threads loader threads), classify (decode the photos, "
                          + "then classify them in batches, as the worker does without the broker) or matmul (GFLOP/s).",
            DefaultValueFactory = _ => "infer",
        };
        mode.AcceptOnlyFromAmong("train", "infer", "data", "classify", "matmul");
        var photos = new Argument<string[]>("photos")
        {
            Description = "data mode: photos to re-encode as the JPEGs decoded; classify mode: the images classified, as they are.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var jpegSize = new Option<string>("--jpeg-size") { Description = "data mode (and classify with --reencode): WIDTHxHEIGHT of the JPEGs.", DefaultValueFactory = _ => "500x375" };
        var reencode = new Option<bool>("--reencode") { Description = "classify mode: classify the photos re-encoded as --jpeg-size JPEGs, as data mode decodes them." };
        var images = new Option<int>("--images") { Description = "data mode: images timed.", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch", "-b") { Description = "Batch size.", DefaultValueFactory = _ => 32 };
        var inputSize = new Option<int?>("--input-size") { Description = "Square input side (default: the configuration's)." };
        var threads = EngineOptions.TorchThreads();
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps.", DefaultValueFactory = _ => 3 };
        var device = EngineOptions.Device();
        var engine = EngineOptions.InferenceEngine();
        engine.Description += " infer and classify modes.";
        var layout = new Option<string>("--layout")
        {
            Description = "train/infer on CPU: channels-last (NHWC, what the engine runs) or nchw (to measure the difference).",
            DefaultValueFactory = _ => "channels-last",
        };
        layout.AcceptOnlyFromAmong("channels-last", "nchw");
        var fullDecode = new Option<bool>("--full-decode")
        {
            Description = "classify mode: decode JPEGs in full (the worker's Worker:Classification:ReducedSizeDecoding=false) instead of at the smallest size the resize allows.",
        };
        var unfolded = new Option<bool>("--unfolded")
        {
            Description = "infer mode: run each BatchNorm as its own pass instead of folded into the convolution before it (what inference runs; to measure the difference).",
        };
        var ortOptimization = new Option<string?>("--ort-optimization")
        {
            Description = "infer mode with --engine onnxruntime: ONNX Runtime's graph optimisation level, basic, extended or all (what classification uses).",
        };
        ortOptimization.AcceptOnlyFromAmong("basic", "extended", "all");
        var ortConfig = new Option<string[]>("--ort-config")
        {
            Description = "infer mode with --engine onnxruntime: a session setting KEY=VALUE (for example session.intra_op.allow_spinning=0); repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var ortProfile = new Option<string?>("--ort-profile")
        {
            Description = "infer mode with --engine onnxruntime: write ONNX Runtime's profile (every node's time, as Chrome trace JSON) to files starting with this path.",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("bench", "Measure training-step or inference images/s on synthetic input.")
        {
            config, mode, batch, inputSize, threads, steps, warmup, device, engine, ortOptimization, ortConfig, ortProfile, layout, unfolded, fullDecode, reencode, json, jpegSize, images, photos,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var configuration = ConfigurationCatalog.Resolve(parse.GetValue(config)!);
            int batchSize = parse.GetValue(batch);
            if (batchSize is < 1 or > 4096) throw new CliUsageException("--batch must be 1..4096");
            if (parse.GetValue(steps) is < 1 or > 100_000) throw new CliUsageException("--steps must be 1..100000");
            if (parse.GetValue(warmup) is < 0 or > 10_000) throw new CliUsageException("--warmup must be 0..10000");
            int size = parse.GetValue(inputSize) ?? configuration.Architecture.InputSize;
            if (parse.GetValue(threads) is { } t)
            {
                if (t is < 1 or > 256) throw new CliUsageException("--threads must be 1..256");
                torch.set_num_threads(t);
            }
            var inferenceEngine = InferenceEngines.Parse(parse.GetValue(engine)!);
            return parse.GetValue(mode) switch
            {
                "matmul" => Matmul(parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(json)),
                "classify" => Classify(configuration, parse.GetValue(photos) ?? [], parse.GetValue(reencode) ? ParseJpegSize(parse.GetValue(jpegSize)!) : null, batchSize, parse.GetValue(threads) ?? Environment.ProcessorCount,
                    parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(device)!, inferenceEngine, !parse.GetValue(fullDecode), parse.GetValue(json)),
                "data" => DataPipeline(configuration, parse.GetValue(photos) ?? [], parse.GetValue(jpegSize)!, parse.GetValue(threads),
                    batchSize, parse.GetValue(images), parse.GetValue(json)),
                var m => Model(configuration, m!, batchSize, size, parse.GetValue(steps), parse.GetValue(warmup), parse.GetValue(device)!,
                    parse.GetValue(layout) == "channels-last", !parse.GetValue(unfolded), inferenceEngine,
                    new OnnxRuntimeSettings(parse.GetValue(ortOptimization), parse.GetValue(ortConfig) ?? [], parse.GetValue(ortProfile)), parse.GetValue(json)),
            };
        }));
        return command;
    }

    private static int Model(SqueezeNextConfiguration configuration, string mode, int batchSize, int size, int steps, int warmup, string device,
        bool channelsLast, bool foldBatchNorm, InferenceEngine engine, OnnxRuntimeSettings onnxRuntimeSettings, bool json)
    {
        var benchMode = mode == "train" ? BenchmarkMode.Train : BenchmarkMode.Infer;
        foldBatchNorm &= benchMode == BenchmarkMode.Infer;
        bool onnxRuntime = benchMode == BenchmarkMode.Infer && engine == InferenceEngine.OnnxRuntime;
        var result = TorchThread.Run("benchmark", () => onnxRuntime
            ? ThroughputBenchmark.RunOnnxRuntime(configuration.Architecture, batchSize, size, steps, warmup, DeviceSelector.Resolve(device), tune: onnxRuntimeSettings.Apply)
            : ThroughputBenchmark.Run(configuration.Architecture, benchMode, batchSize, size, steps, warmup, DeviceSelector.Resolve(device),
                channelsLast: channelsLast, foldBatchNorm: foldBatchNorm));
        double peakMegabytes = PeakMegabytes();
        if (json)
        {
            CliJson.Write(new
            {
                framework = onnxRuntime ? "onnxruntime" : "torchsharp",
                config = configuration.Name,
                mode,
                batch = batchSize,
                input_size = size,
                threads = result.Threads,
                layout = channelsLast && !onnxRuntime ? "channels-last" : "nchw",
                batchnorm = benchMode == BenchmarkMode.Train ? "training" : foldBatchNorm ? "folded" : "separate",
                onnxruntime = onnxRuntime ? new { optimization = onnxRuntimeSettings.Optimization ?? "all", config = onnxRuntimeSettings.Config, profile = onnxRuntimeSettings.ProfilePrefix } : null,
                steps = result.Steps,
                images_per_second = result.ImagesPerSecond,
                median_seconds_per_step = result.MedianSecondsPerStep,
                peak_working_set_mb = peakMegabytes,
                allocator = NativeHeap.Allocator,
            });
        }
        else
        {
            Console.Out.WriteLine($"{(onnxRuntime ? "ONNX Runtime: " : "")}{configuration.Name} {mode} batch {batchSize} at {size}×{size}{(channelsLast ? "" : " (NCHW)")}{(benchMode == BenchmarkMode.Infer && !foldBatchNorm ? " (BatchNorm unfolded)" : "")}, {result.Threads} threads: " +
                                  $"{result.ImagesPerSecond:F1} img/s (median {result.MedianSecondsPerStep * 1000:F1} ms/step), peak memory {peakMegabytes:F0} MB");
        }
        return 0;
    }

    /// <summary>What <c>--ort-optimization</c>, <c>--ort-config</c> and <c>--ort-profile</c> change in the benchmark's ONNX Runtime session.</summary>
    private sealed record OnnxRuntimeSettings(string? Optimization, string[] Config, string? ProfilePrefix)
    {
        private readonly (string Key, string Value)[] entries = Config.Select(setting => setting.Split('=', 2) is [var key, var value] && key.Length > 0
            ? (key, value)
            : throw new CliUsageException($"--ort-config takes KEY=VALUE, not '{setting}'")).ToArray();

        public void Apply(SessionOptions options)
        {
            if (Optimization is not null)
                options.GraphOptimizationLevel = Optimization switch
                {
                    "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                    "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                    _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
                };
            foreach (var (key, value) in entries) options.AddSessionConfigEntry(key, value);
            if (ProfilePrefix is not null)
            {
                // The prefix first: enabling profiling passes ONNX Runtime the prefix set at that moment.
                options.ProfileOutputPathPrefix = ProfilePrefix;
                options.EnableProfiling = true;
            }
        }
    }

    private static int Matmul(int steps, int warmup, bool json)
    {
        const int size = 2048;
        var (gflops, median) = TorchThread.Run("matmul", () => MatmulBenchmark.Run(size, steps, warmup));
        if (json) CliJson.Write(new { framework = "torchsharp", mode = "matmul", size, threads = torch.get_num_threads(), gflops_per_second = gflops, median_seconds = median });
        else Console.Out.WriteLine($"float32 matmul {size}×{size}, {torch.get_num_threads()} threads: {gflops:F1} GFLOP/s (median {median * 1000:F1} ms)");
        return 0;
    }

    private static int Classify(SqueezeNextConfiguration configuration, string[] photos, (int Width, int Height)? reencodeSize, int batchSize, int threads,
        int batches, int warmup, string device, InferenceEngine engine, bool reducedSizeDecoding, bool json)
    {
        if (photos.Length == 0) throw new CliUsageException("classify mode needs images: sqnxt bench --mode classify photo1.jpg photo2.png ...");
        foreach (var photo in photos)
            if (!File.Exists(photo)) throw new CliUsageException($"'{photo}' does not exist");
        var encoded = reencodeSize is var (width, height)
            ? DataPipelineBenchmark.EncodeJpegs(photos, width, height)
            : photos.Select(File.ReadAllBytes).ToArray();
        var result = TorchThread.Run("classify benchmark", () =>
            ClassifyBenchmark.Run(configuration, encoded, batchSize, threads, batches, warmup, DeviceSelector.Resolve(device), engine, reducedSizeDecoding));
        if (json)
        {
            CliJson.Write(new
            {
                framework = engine == InferenceEngine.OnnxRuntime ? "onnxruntime" : "torchsharp", mode = "classify", config = configuration.Name, batch = batchSize, threads = result.Threads,
                images = result.Images, decoding = reducedSizeDecoding ? "reduced" : "full", jpeg_decoder = ImageDecoder.JpegDecoder, images_per_second = result.ImagesPerSecond, forward_images_per_second = result.ForwardImagesPerSecond,
                decode_ms_per_image = result.DecodeMillisecondsPerImage, peak_working_set_mb = PeakMegabytes(), allocator = NativeHeap.Allocator,
            });
        }
        else
        {
            Console.Out.WriteLine($"classify {configuration.Name} in batches of {batchSize}, {result.Threads} threads: {result.ImagesPerSecond:F1} img/s " +
                                  $"with {(reducedSizeDecoding ? "reduced-size" : "full")} decoding by {ImageDecoder.JpegDecoder} ({result.DecodeMillisecondsPerImage:F1} ms per image), {result.ForwardImagesPerSecond:F1} img/s forward only");
        }
        return 0;
    }

    private static int DataPipeline(SqueezeNextConfiguration configuration, string[] photos, string jpegSize, int? threads, int batchSize, int images, bool json)
    {
        if (photos.Length == 0) throw new CliUsageException("data mode needs photos to decode: sqnxt bench --mode data photo1.jpg photo2.png ...");
        var (width, height) = ParseJpegSize(jpegSize);
        if (images < batchSize || images > 1_000_000) throw new CliUsageException($"--images must be {batchSize}..1000000");
        foreach (var photo in photos)
            if (!File.Exists(photo)) throw new CliUsageException($"'{photo}' does not exist");
        int loaderThreads = threads ?? Environment.ProcessorCount;
        var jpegs = DataPipelineBenchmark.EncodeJpegs(photos, width, height);
        double perSecond = DataPipelineBenchmark.Run(jpegs, ImagePreprocessor.For(configuration), loaderThreads, batchSize, images);
        if (json)
        {
            CliJson.Write(new
            {
                framework = "torchsharp", mode = "data", config = configuration.Name, jpeg_size = $"{width}x{height}", jpegs = jpegs.Length,
                threads = loaderThreads, batch = batchSize, images, images_per_second = perSecond, peak_working_set_mb = PeakMegabytes(),
            });
        }
        else
        {
            Console.Out.WriteLine($"decode + {configuration.Name} training transform of {width}×{height} JPEGs, {loaderThreads} loader threads: " +
                                  $"{perSecond:F1} img/s ({perSecond / loaderThreads:F1} per thread)");
        }
        return 0;
    }

    private static double PeakMegabytes() => Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);

    private static (int Width, int Height) ParseJpegSize(string jpegSize)
    {
        var size = jpegSize.Split('x');
        if (size.Length != 2 || !int.TryParse(size[0], out int width) || !int.TryParse(size[1], out int height) || width is < 8 or > 8192 || height is < 8 or > 8192)
            throw new CliUsageException($"--jpeg-size: '{jpegSize}' is not WIDTHxHEIGHT with sides 8..8192");
        return (width, height);
    }
}
