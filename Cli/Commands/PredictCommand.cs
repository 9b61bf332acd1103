using SqueezeNext.Vision.Training;
using SqueezeNext.Vision.Data;
using SqueezeNext.Vision.Inference;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt predict</c>: the most likely labels of images, as the TF port's predict.py printed them.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Description = "Image files (JPEG, PNG, ...).", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string>("--model", "-m") { Description = "Model directory.", Required = true };
        var top = new Option<int>("--top", "-k") { Description = "How many labels to show.", DefaultValueFactory = _ => 5 };
        var device = EngineOptions.Device();
        var engine = EngineOptions.InferenceEngine();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per image, as a JSON array." };
        var command = new Command("predict", "Print the top-k labels of images.") { images, model, top, device, engine, json };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            int k = parse.GetValue(top);
            if (k is < 1 or > 1000) throw new CliUsageException("--top must be 1..1000");
            var files = parse.GetValue(images)!;
            var results = TorchThread.Run("prediction", () =>
            {
                using var classifier = ImageClassifier.Load(parse.GetValue(model)!, InferenceEngines.Parse(parse.GetValue(engine)!), parse.GetValue(device)!);
                var answers = new List<(string File, IReadOnlyList<Prediction>? Top, string? Error)>();
                foreach (var file in files)
                {
                    try
                    {
                        using var image = ImageDecoder.Default.Decode(file);
                        answers.Add((file, classifier.Classify(image, k), null));
                    }
                    catch (ImageDecodeException e)
                    {
                        answers.Add((file, null, e.Message));
                    }
                }
                return answers;
            });

            if (parse.GetValue(json))
            {
                CliJson.Write(results.Select(r => new
                {
                    image = r.File,
                    error = r.Error,
                    predictions = r.Top?.Select(p => new { index = p.Index, synset = p.Synset, name = p.Name, names = p.FullName, probability = p.Probability }),
                }));
            }
            else
            {
                foreach (var (file, predictions, error) in results)
                {
                    if (error is not null)
                    {
                        Console.Error.WriteLine($"sqnxt: error: {error}");
                        continue;
                    }
                    Console.Out.WriteLine(file);
                    int rank = 1;
                    foreach (var p in predictions!)
                        Console.Out.WriteLine($"  {rank++}. {p.Probability,7:P2}  {p.FullName}" + (p.Synset is null ? "" : $" ({p.Synset}, {p.Index})"));
                }
            }
            return results.Any(r => r.Error is not null) ? CliErrors.Failure : 0;
        }));
        return command;
    }
}
