using System.Security.Cryptography;
using System.Text.Json;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt models list|versions|download|promote</c>: registered models on the dashboard's API.</summary>
public static class ModelsCommand
{
    public static Command Create() => new("models", "List, download and promote registered models through the dashboard's API (after 'sqnxt login').")
    {
        List(), Versions(), Download(), Promote(),
    };

    private static Command List()
    {
        var remote = new RemoteOptions();
        var command = new Command("list", "Model names with their serving and latest versions.");
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var models = await api.GetAsync<JsonElement>("api/v1/models");
            if (remote.WantsJson(parse))
            {
                CliJson.Write(models);
                return 0;
            }
            var table = new TextTable("name", "versions", "serving", "latest", "configuration");
            foreach (var m in models.EnumerateArray())
                table.Add(RunsCommand.Text(m, "name"), RunsCommand.Text(m, "versions"), RunsCommand.Text(m, "servingVersion") is { Length: > 0 } v ? $"v{v}" : "-",
                    $"v{RunsCommand.Text(m, "latestVersion")}", RunsCommand.Text(m, "configuration"));
            table.Write(Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Versions()
    {
        var remote = new RemoteOptions();
        var name = new Argument<string>("name");
        var command = new Command("versions", "A model's versions, newest first, with their latest evaluation.") { name };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var versions = await api.GetAsync<JsonElement>($"api/v1/models/{Uri.EscapeDataString(parse.GetValue(name)!)}/versions");
            if (remote.WantsJson(parse))
            {
                CliJson.Write(versions);
                return 0;
            }
            var table = new TextTable("version", "serving", "configuration", "from", "top-1", "top-5", "created");
            foreach (var v in versions.EnumerateArray())
                table.Add($"v{RunsCommand.Text(v, "version")}", v.GetProperty("serving").GetBoolean() ? "serving" : "",
                    RunsCommand.Text(v, "configuration"), RunsCommand.Text(v, "sourceRunId") is { Length: > 0 } run ? $"run {run}" : RunsCommand.Text(v, "description"),
                    RunsCommand.Text(v, "top1"), RunsCommand.Text(v, "top5"), v.GetProperty("createdAt").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm"));
            table.Write(Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Download()
    {
        var remote = new RemoteOptions();
        var name = new Argument<string>("name");
        var version = new Argument<int>("version");
        var format = new Option<string>("--format", "-f") { Description = "safetensors (with configuration and classes), onnx or pytorch.", DefaultValueFactory = _ => "safetensors" };
        format.AcceptOnlyFromAmong("safetensors", "onnx", "pytorch");
        var output = new Option<string?>("--out", "-o") { Description = "File to write (default: the name the dashboard gives, in this folder)." };
        var command = new Command("download", "Save a model version as one file.") { name, version, format, output };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var (bytes, fileName, sha256) = await api.DownloadAsync(
                $"api/v1/models/{Uri.EscapeDataString(parse.GetValue(name)!)}/versions/{parse.GetValue(version)}/download?format={parse.GetValue(format)}");
            var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (sha256 is not null && sha256 != actual) throw new CliUsageException($"the download's SHA-256 is {actual}, the dashboard announced {sha256}");
            var path = parse.GetValue(output) ?? Path.GetFileName(fileName ?? $"{parse.GetValue(name)}-v{parse.GetValue(version)}.{parse.GetValue(format)}");
            await File.WriteAllBytesAsync(path, bytes);
            if (remote.WantsJson(parse)) CliJson.Write(new { file = Path.GetFullPath(path), bytes = bytes.LongLength, sha256 = actual, format = parse.GetValue(format) });
            else Console.Out.WriteLine($"wrote {path} ({bytes.LongLength:N0} bytes, sha256 {actual})");
            return 0;
        }));
        return command;
    }

    private static Command Promote()
    {
        var remote = new RemoteOptions();
        var name = new Argument<string>("name");
        var version = new Argument<int>("version");
        var command = new Command("promote", "Make a version the one that serves its name (admin).") { name, version };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var answer = await api.PostAsync<JsonElement>($"api/v1/models/{Uri.EscapeDataString(parse.GetValue(name)!)}/versions/{parse.GetValue(version)}/promote", new { });
            if (remote.WantsJson(parse)) CliJson.Write(answer);
            else Console.Out.WriteLine($"{RunsCommand.Text(answer, "name")} v{RunsCommand.Text(answer, "version")} is serving");
            return 0;
        }));
        return command;
    }
}
