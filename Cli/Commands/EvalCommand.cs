using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Evaluation;
using SqueezeNext.Vision.Inference;
using SqueezeNext.Vision.Training;
using TorchSharp;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt eval</c>: loss, top-1, top-5 and per-class accuracy of a model on a dataset split.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Model directory (a trained model, best/, or a checkpoint).", Required = true };
        var data = new Option<string>("--data", "-d") { Description = "Dataset folder.", Required = true };
        var split = new Option<string>("--split") { Description = "val or train.", DefaultValueFactory = _ => "val" };
        split.AcceptOnlyFromAmong("val", "train");
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "Images per forward pass.", DefaultValueFactory = _ => 64 };
        var maxImages = new Option<int?>("--max-images") { Description = "Evaluate only the first N images." };
        var device = EngineOptions.Device();
        var threads = EngineOptions.TorchThreads();
        var engine = EngineOptions.InferenceEngine();
        var loaderThreads = EngineOptions.LoaderThreads();
        var perClass = new Option<bool>("--per-class") { Description = "Also print the accuracy of every class." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("eval", "Evaluate a model: loss, top-1, top-5 and per-class accuracy.")
        {
            model, data, split, batchSize, maxImages, device, threads, engine, loaderThreads, perClass, json,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            if (parse.GetValue(batchSize) is < 1 or > 4096) throw new CliUsageException("--batch-size must be 1..4096");
            if (parse.GetValue(threads) is { } t) torch.set_num_threads(t);
            var progress = new ProgressLine();
            var evaluation = TorchThread.Run("evaluation", () => ModelEvaluation.Run(new EvaluationOptions
            {
                ModelDirectory = parse.GetValue(model)!,
                DataDirectory = parse.GetValue(data)!,
                Split = parse.GetValue(split) == "train" ? DatasetSplit.Train : DatasetSplit.Validation,
                MaxImages = parse.GetValue(maxImages),
                BatchSize = parse.GetValue(batchSize),
                LoaderThreads = parse.GetValue(loaderThreads),
                Device = parse.GetValue(device)!,
                Engine = InferenceEngines.Parse(parse.GetValue(engine)!),
            }, (done, total) => progress.Update($"{ProgressLine.Bar((double)done / total)} {done:N0}/{total:N0} images", done == total)));
            progress.Finish();
            Print(evaluation.Result, evaluation.DatasetDescription, evaluation.ConfigurationName, parse.GetValue(perClass), parse.GetValue(json));
            return 0;
        }));
        return command;
    }

    private static void Print(EvaluationReport result, string dataset, string config, bool perClass, bool json)
    {
        if (json)
        {
            CliJson.Write(result, ("config", config), ("dataset", dataset));
            return;
        }
        Console.Out.WriteLine($"{config} on {dataset}");
        Console.Out.WriteLine($"images {result.Images:N0}  top-1 {result.Top1:P2}  top-5 {result.Top5:P2}  loss {result.Loss:F4}  " +
                              $"{result.ImagesPerSecond:F0} img/s" + (result.FailedImages > 0 ? $"  ({result.FailedImages} unreadable images skipped)" : ""));
        if (!perClass) return;
        var table = new TextTable("index", "class", "correct", "total", "accuracy").AlignRight(0, 2, 3, 4);
        foreach (var c in result.PerClass.Where(c => c.Total > 0))
            table.Add(c.Index, c.Name, c.Correct, c.Total, c.Accuracy.ToString("P1"));
        table.Write(Console.Out);
    }
}
