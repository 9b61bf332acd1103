using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt train</c>: train a configuration on a dataset folder, with checkpoints and resume.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Configuration name or JSON file.", DefaultValueFactory = _ => ConfigurationCatalog.DefaultName };
        var data = new Option<string>("--data", "-d") { Description = "Dataset folder (Fashion-MNIST IDX files, train/ and val/ folders, or class folders).", Required = true };
        var validation = new Option<string?>("--val") { Description = "Dataset folder to validate on (default: the --data folder's validation split)." };
        var output = new Option<string>("--out", "-o") { Description = "Output folder for checkpoints/, best/ and model/.", Required = true };
        var keep = new Option<int>("--keep") { Description = "Checkpoints to keep.", DefaultValueFactory = _ => 5 };
        var device = EngineOptions.Device();
        var threads = EngineOptions.TorchThreads();
        var loaderThreads = EngineOptions.LoaderThreads();
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --out." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };

        var command = new Command("train", "Train a SqueezeNext configuration on a dataset.")
        {
            config, data, validation, output, keep, device, threads, loaderThreads, resume, json,
        };
        var settings = new TrainingSettingOptions();
        settings.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var dataRoot = parse.GetValue(data)!;
            var plan = TrainingPlan.Create(ConfigurationCatalog.Resolve(parse.GetValue(config)!), settings.Read(parse), DatasetReader.DiscoverClasses(dataRoot));
            var options = new TrainingOptions
            {
                Plan = plan,
                TrainData = dataRoot,
                ValidationData = parse.GetValue(validation),
                OutputDirectory = parse.GetValue(output)!,
                KeepCheckpoints = parse.GetValue(keep),
                Device = parse.GetValue(device)!,
                TorchThreads = parse.GetValue(threads),
                LoaderThreads = parse.GetValue(loaderThreads),
                Resume = parse.GetValue(resume),
            };
            var progress = new ProgressLine();
            if (plan.Note is { } note) progress.WriteLine($"note: {note}");
            var observer = new ConsoleTrainingObserver(progress);
            using var cancellation = new Cancellation();
            var result = TorchThread.Run("training", () => new Trainer(options, observer).Run(cancellation.Token));
            progress.Finish();

            if (parse.GetValue(json))
            {
                CliJson.Write(new
                {
                    outcome = result.Outcome.ToString().ToLowerInvariant(),
                    config = plan.Configuration.Name,
                    step = result.Step,
                    totalSteps = result.TotalSteps,
                    epoch = result.Epoch,
                    bestTop1 = result.BestTop1,
                    top1 = result.LastEvaluation?.Top1,
                    top5 = result.LastEvaluation?.Top5,
                    loss = result.LastEvaluation?.Loss,
                    model = result.ModelDirectory,
                    best = result.BestModelDirectory,
                    checkpoint = result.LastCheckpoint,
                    seconds = result.Elapsed.TotalSeconds,
                });
            }
            else
            {
                Console.Out.WriteLine(result.Outcome == TrainingOutcome.Completed
                    ? $"model: {result.ModelDirectory}" + (result.BestModelDirectory is { } best ? $"  best: {best}" : "")
                    : $"stopped at step {result.Step}; resume with --resume (checkpoint {result.LastCheckpoint})");
            }
            return result.Outcome == TrainingOutcome.Completed ? 0 : CliErrors.Cancelled;
        }));
        return command;
    }

    /// <summary>Shows a training run's progress line and events in the terminal.</summary>
    private sealed class ConsoleTrainingObserver(ProgressLine line) : ITrainingObserver
    {
        public void OnProgress(TrainingProgress p) =>
            line.Update($"{ProgressLine.Bar((double)p.Step / p.TotalSteps)} step {p.Step:N0}/{p.TotalSteps:N0} epoch {p.Epoch + 1} " +
                        $"loss {(double.IsNaN(p.Loss) ? "-" : p.Loss.ToString("F4"))} lr {p.LearningRate:G4} {p.ImagesPerSecond:F0} img/s ETA {ProgressLine.Duration(p.Remaining)}",
                force: p.Step == p.TotalSteps);

        public void OnEvent(TrainingEvent e) =>
            line.WriteLine(e.Level == "info" ? e.Message : $"{e.Level}: {e.Message}");

        public void OnCheckpoint(SavedCheckpoint checkpoint) =>
            line.WriteLine($"checkpoint {checkpoint.Directory}");
    }
}
