using System.Text.Json;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt datasets list|show|upload|delete</c>: versioned datasets on the dashboard's API.</summary>
public static class DatasetsCommand
{
    public static Command Create() => new("datasets", "List, show, upload and delete datasets through the dashboard's API (after 'sqnxt login').")
    {
        List(), Show(), Upload(), Delete(),
    };

    private static Command List()
    {
        var remote = new RemoteOptions();
        var command = new Command("list", "Every dataset: uploaded ones with their newest version, and the folders the workers found.");
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var datasets = await api.GetAsync<JsonElement>("api/v1/datasets");
            if (remote.WantsJson(parse))
            {
                CliJson.Write(datasets);
                return 0;
            }
            var table = new TextTable("name", "kind", "version", "classes", "train", "val", "size", "digest", "created by");
            foreach (var d in datasets.EnumerateArray())
            {
                table.Add(Text(d, "name"), Text(d, "kind"), Text(d, "latestVersion") is { Length: > 0 } v ? $"v{v}" : Text(d, "layout"),
                    Text(d, "classes"), Text(d, "trainImages"), Text(d, "validationImages"), Size(d, "sizeBytes"), Short(Text(d, "digest")), Text(d, "createdBy"));
            }
            table.Write(Console.Out);
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var remote = new RemoteOptions();
        var name = new Argument<string>("name") { Description = "The dataset, or NAME@VERSION for one version with its classes and import report." };
        var command = new Command("show", "A dataset's versions, or one version's classes, import report and runs.") { name };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var (dataset, version) = Reference(parse.GetValue(name)!);
            if (version is null)
            {
                var details = await api.GetAsync<JsonElement>($"api/v1/datasets/{Uri.EscapeDataString(dataset)}");
                if (remote.WantsJson(parse))
                {
                    CliJson.Write(details);
                    return 0;
                }
                var table = new TextTable("version", "status", "classes", "train", "val", "size", "digest", "from", "created by", "created");
                foreach (var v in details.GetProperty("versions").EnumerateArray())
                {
                    table.Add($"v{Text(v, "version")}", Text(v, "status"), Text(v, "classes") is { Length: > 0 } ? v.GetProperty("classes").GetArrayLength().ToString() : "",
                        Text(v, "trainImages"), Text(v, "validationImages"), Size(v, "sizeBytes"), Short(Text(v, "digest")), $"{Text(v, "source")}: {Text(v, "sourceName")}",
                        Text(v, "createdBy"), v.GetProperty("createdAt").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm"));
                }
                table.Write(Console.Out);
                return 0;
            }
            var info = await api.GetAsync<JsonElement>($"api/v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}");
            if (remote.WantsJson(parse))
            {
                CliJson.Write(info);
                return 0;
            }
            WriteVersion(info);
            return 0;
        }));
        return command;
    }

    private static Command Upload()
    {
        var remote = new RemoteOptions();
        var source = new Argument<string>("source") { Description = "A zip, tar or tar.gz archive, or a folder (packed as a tar while it streams)." };
        var name = new Option<string>("--name", "-n") { Description = "The dataset (a new name makes one; an existing one gets its next version).", Required = true };
        var fraction = new Option<double?>("--validation-fraction") { Description = "Share of each class split off for validation when the data has no val/ (0 to 0.9; default 0.2)." };
        var seed = new Option<int?>("--seed") { Description = "Seed of that split." };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the import is queued, without waiting for the version to be ready." };
        var command = new Command("upload", "Upload an archive or folder as the next version of a dataset, resumably, and wait for its import.") { source, name, fraction, seed, noWait };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var path = parse.GetValue(source)!;
            TusSource upload = Directory.Exists(path)
                ? TusSource.FromFolder(FolderArchive.Create(path, skipped => Console.Error.WriteLine($"skipped {skipped} (not a regular file)")))
                : File.Exists(path) ? TusSource.FromFile(path) : throw new CliUsageException($"'{path}' is neither a file nor a folder");
            using var api = remote.Connect(parse);
            var progress = new ProgressLine();
            var started = System.Diagnostics.Stopwatch.StartNew();
            using var tus = api.Uploads(new TusClientOptions
            {
                Progress = (sent, total) => progress.Update($"uploading {upload.FileName}: {sent / 1048576.0:N1} of {total / 1048576.0:N1} MB " +
                                                            $"({sent / 1048576.0 / Math.Max(0.001, started.Elapsed.TotalSeconds):N1} MB/s)"),
                Resumed = resume => progress.WriteLine($"resuming at {resume.Offset:N0} bytes ({resume.Reason})"),
            });
            var uploadId = await tus.UploadAsync(upload);
            progress.Update($"uploaded {upload.FileName} ({upload.Length / 1048576.0:N1} MB) in {started.Elapsed.TotalSeconds:N1} s", force: true);
            Console.Error.WriteLine();

            var dataset = parse.GetValue(name)!;
            var accepted = await api.PostAsync<JsonElement>($"api/v1/datasets/{Uri.EscapeDataString(dataset)}/versions",
                new { upload = uploadId, validationFraction = parse.GetValue(fraction), seed = parse.GetValue(seed) });
            int version = accepted.GetProperty("version").GetInt32();
            if (parse.GetValue(noWait))
            {
                if (remote.WantsJson(parse)) CliJson.Write(accepted);
                else Console.Out.WriteLine($"{dataset} v{version} is importing (run {Text(accepted, "runId")})");
                return 0;
            }
            var info = await WaitForImportAsync(api, dataset, version, Guid.Parse(Text(accepted, "runId")), progress);
            if (remote.WantsJson(parse)) CliJson.Write(info);
            else WriteVersion(info);
            return Text(info, "status") == "ready" ? 0 : 1;
        }));
        return command;
    }

    private static Command Delete()
    {
        var remote = new RemoteOptions();
        var name = new Argument<string>("version") { Description = "NAME@VERSION" };
        var command = new Command("delete", "Delete a dataset version that no run has read (admin).") { name };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var (dataset, version) = Reference(parse.GetValue(name)!);
            if (version is null) throw new CliUsageException("name the version to delete as NAME@VERSION");
            using var api = remote.Connect(parse);
            await api.DeleteAsync($"api/v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}");
            if (remote.WantsJson(parse)) CliJson.Write(new { dataset, version, deleted = true });
            else Console.Out.WriteLine($"deleted {dataset} v{version}");
            return 0;
        }));
        return command;
    }

    /// <summary>Follows the import run until the version is ready or failed, showing the run's progress.</summary>
    private static async Task<JsonElement> WaitForImportAsync(ApiClient api, string dataset, int version, Guid run, ProgressLine progress)
    {
        var path = $"api/v1/datasets/{Uri.EscapeDataString(dataset)}/versions/{version}";
        while (true)
        {
            var info = await api.GetAsync<JsonElement>(path);
            if (Text(info, "status") != "importing")
            {
                Console.Error.WriteLine();
                return info;
            }
            var state = await api.GetAsync<JsonElement>($"api/v1/runs/{run}");
            var summary = state.GetProperty("run");
            progress.Update($"importing {dataset} v{version}: {Text(summary, "status")}, {Text(summary, "step")} of {Text(summary, "totalSteps")}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static void WriteVersion(JsonElement v)
    {
        Console.Out.WriteLine($"{Text(v, "dataset")} v{Text(v, "version")}: {Text(v, "status")}");
        if (Text(v, "error") is { Length: > 0 } error) Console.Out.WriteLine($"error: {error}");
        if (Text(v, "status") != "ready") return;
        Console.Out.WriteLine($"digest {Text(v, "digest")}, {Text(v, "layout")}, {Text(v, "trainImages")} training and {Text(v, "validationImages")} validation images, {Size(v, "sizeBytes")}");
        var table = new TextTable("class", "train", "val");
        foreach (var c in v.GetProperty("classes").EnumerateArray()) table.Add(Text(c, "name"), Text(c, "train"), Text(c, "validation"));
        table.Write(Console.Out);
        if (v.TryGetProperty("report", out var report) && report.ValueKind == JsonValueKind.Object)
        {
            var reasons = report.GetProperty("skippedByReason").EnumerateObject().Select(r => $"{r.Value.GetInt32():N0} {r.Name}").ToList();
            Console.Out.WriteLine(reasons.Count == 0 ? "nothing left out" : $"left out: {string.Join(", ", reasons)}");
            foreach (var skipped in report.GetProperty("skipped").EnumerateArray().Take(20))
                Console.Out.WriteLine($"  {Text(skipped, "path")}: {Text(skipped, "reason")} ({Text(skipped, "detail")})");
        }
        if (v.TryGetProperty("runs", out var runs) && runs.ValueKind == JsonValueKind.Array && runs.GetArrayLength() > 0)
            Console.Out.WriteLine($"read by runs: {string.Join(", ", runs.EnumerateArray().Select(r => r.GetString()))}");
    }

    /// <summary>"name" or "name@N".</summary>
    private static (string Name, int? Version) Reference(string text)
    {
        int at = text.LastIndexOf('@');
        return at > 0 && int.TryParse(text[(at + 1)..], out int version) ? (text[..at], version) : (text, null);
    }

    private static string Text(JsonElement element, string property) => RunsCommand.Text(element, property);

    private static string Short(string digest) => digest.Length > 12 ? digest[..12] : digest;

    private static string Size(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? $"{value.GetInt64() / 1048576.0:N1} MB" : "";
}
