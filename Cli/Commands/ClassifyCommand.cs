using System.Net.Http.Headers;
using System.Text.Json;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt classify IMG...</c>: images through the dashboard's API, the queue and a worker.</summary>
public static class ClassifyCommand
{
    public static Command Create()
    {
        var remote = new RemoteOptions();
        var images = new Argument<string[]>("images") { Description = "Image files (JPEG, PNG, ...).", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model", "-m") { Description = "Model name (default: the workers' serving model)." };
        var version = new Option<int?>("--version") { Description = "Model version (default: the serving one)." };
        var top = new Option<int>("--top", "-k") { Description = "How many labels.", DefaultValueFactory = _ => 5 };
        var command = new Command("classify", "Classify images on the workers, through the dashboard's API (after 'sqnxt login'); --json prints one answer per line.")
        {
            images, model, version, top,
        };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            int failed = 0;
            foreach (var path in parse.GetValue(images)!)
            {
                if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
                using var form = new MultipartFormDataContent();
                var file = new ByteArrayContent(await File.ReadAllBytesAsync(path));
                file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(file, "image", Path.GetFileName(path));
                var query = RunsCommand.Query(("top", parse.GetValue(top).ToString()), ("model", parse.GetValue(model)), ("version", parse.GetValue(version)?.ToString()));
                JsonElement answer;
                try
                {
                    answer = await api.PostAsync<JsonElement>($"api/v1/classify{query}", form);
                }
                catch (CliUsageException e) when (parse.GetValue(images)!.Length > 1)
                {
                    // One bad image among several: say which, and go on with the others.
                    Console.Error.WriteLine($"sqnxt: {path}: {e.Message}");
                    failed++;
                    continue;
                }
                if (remote.WantsJson(parse))
                {
                    CliJson.WriteLine(answer, ("file", path));
                    continue;
                }
                Console.Out.WriteLine($"{path} ({RunsCommand.Text(answer, "modelName")} v{RunsCommand.Text(answer, "modelVersion")}, batch of {RunsCommand.Text(answer, "batchSize")})");
                int rank = 1;
                foreach (var p in answer.GetProperty("predictions").EnumerateArray())
                    Console.Out.WriteLine($"  {rank++}. {p.GetProperty("probability").GetDouble(),7:P2}  {RunsCommand.Text(p, "fullName")}");
            }
            return failed == 0 ? 0 : CliErrors.Failure;
        }));
        return command;
    }
}
