using System.CommandLine;
using System.Diagnostics;
using SqueezeNext.Cli.Output;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Training;
using TorchSharp;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt bench</c>: training-step or inference throughput on synthetic input.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Configuration name or JSON file.", DefaultValueFactory = _ => ConfigurationCatalog.DefaultName };
        var mode = new Option<string>("--mode") { Description = "train or infer.", DefaultValueFactory = _ => "infer" };
        mode.AcceptOnlyFromAmong("train", "infer");
        var batch = new Option<int>("--batch", "-b") { Description = "Batch size.", DefaultValueFactory = _ => 32 };
        var inputSize = new Option<int?>("--input-size") { Description = "Square input side (default: the configuration's)." };
        var threads = new Option<int?>("--threads") { Description = "libtorch threads (default: one per core)." };
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps.", DefaultValueFactory = _ => 3 };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("bench", "Measure training-step or inference images/s on synthetic input.")
        {
            config, mode, batch, inputSize, threads, steps, warmup, device, json,
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
            var benchMode = parse.GetValue(mode) == "train" ? BenchmarkMode.Train : BenchmarkMode.Infer;
            var result = TorchThread.Run("benchmark", () => ThroughputBenchmark.Run(configuration.Architecture, benchMode, batchSize, size,
                parse.GetValue(steps), parse.GetValue(warmup), DeviceSelector.Resolve(parse.GetValue(device))));
            double peakMegabytes = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);

            if (parse.GetValue(json))
            {
                CliJson.Write(new
                {
                    config = configuration.Name,
                    mode = parse.GetValue(mode),
                    batch = batchSize,
                    input_size = size,
                    threads = result.Threads,
                    steps = result.Steps,
                    images_per_second = result.ImagesPerSecond,
                    median_seconds_per_step = result.MedianSecondsPerStep,
                    peak_working_set_mb = peakMegabytes,
                });
            }
            else
            {
                Console.Out.WriteLine($"{configuration.Name} {parse.GetValue(mode)} batch {batchSize} at {size}×{size}, {result.Threads} threads: " +
                                      $"{result.ImagesPerSecond:F1} img/s (median {result.MedianSecondsPerStep * 1000:F1} ms/step), peak memory {peakMegabytes:F0} MB");
            }
            return 0;
        }));
        return command;
    }
}
