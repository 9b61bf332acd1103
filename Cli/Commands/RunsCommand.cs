using System.Globalization;
using System.Text.Json;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt runs list|show|wait|logs|metrics|cancel|resume</c>: runs on the dashboard's API.</summary>
public static class RunsCommand
{
    private static readonly string[] Finished = ["completed", "failed", "cancelled"];

    public static Command Create() => new("runs", "List, follow and control runs through the dashboard's API (after 'sqnxt login').")
    {
        List(), Show(), Wait(), Logs(), Metrics(), Cancel(), Resume(),
    };

    private static Command List()
    {
        var remote = new RemoteOptions();
        var status = new Option<string?>("--status") { Description = "queued, running, completed, failed, cancelled or stale." };
        var kind = new Option<string?>("--kind") { Description = "training or evaluation." };
        var configuration = new Option<string?>("--config", "-c") { Description = "Only runs of this configuration." };
        var dataset = new Option<string?>("--dataset", "-d") { Description = "Only runs on this dataset." };
        var take = new Option<int>("--take", "-n") { Description = "How many (newest first).", DefaultValueFactory = _ => 20 };
        var skip = new Option<int>("--skip") { Description = "Skip this many first.", DefaultValueFactory = _ => 0 };
        var command = new Command("list", "List runs, newest first.") { status, kind, configuration, dataset, take, skip };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var query = Query(("status", parse.GetValue(status)), ("kind", parse.GetValue(kind)), ("configuration", parse.GetValue(configuration)),
                ("dataset", parse.GetValue(dataset)), ("take", parse.GetValue(take).ToString(CultureInfo.InvariantCulture)),
                ("skip", parse.GetValue(skip).ToString(CultureInfo.InvariantCulture)));
            var page = await api.GetAsync<JsonElement>($"api/v1/runs{query}");
            if (remote.WantsJson(parse))
            {
                CliJson.Write(page);
                return 0;
            }
            var table = new TextTable("id", "kind", "status", "name", "configuration", "dataset", "step", "top-1", "created");
            foreach (var run in page.GetProperty("items").EnumerateArray())
                table.Add(Text(run, "id"), Text(run, "kind"), Text(run, "status"), Text(run, "name"), Text(run, "configuration"), Text(run, "dataset"),
                    $"{run.GetProperty("step").GetInt64():N0}/{run.GetProperty("totalSteps").GetInt64():N0}", Percent(run, "bestTop1"),
                    run.GetProperty("createdAt").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm"));
            table.Write(Console.Out);
            Console.Out.WriteLine($"{page.GetProperty("items").GetArrayLength()} of {page.GetProperty("total").GetInt32()} runs");
            return 0;
        }));
        return command;
    }

    private static Command Show()
    {
        var remote = new RemoteOptions();
        var id = new Argument<Guid>("run");
        var command = new Command("show", "A run: status, progress, metrics, checkpoints and evaluation.") { id };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var details = await api.GetAsync<JsonElement>($"api/v1/runs/{parse.GetValue(id)}");
            if (remote.WantsJson(parse))
            {
                CliJson.Write(details);
                return 0;
            }
            var run = details.GetProperty("run");
            Console.Out.WriteLine($"{Text(run, "kind")} run {Text(run, "id")}  {Text(run, "name")}");
            Console.Out.WriteLine($"  status        {Text(run, "status")}{(Text(run, "error") is { Length: > 0 } error ? $": {error}" : "")}");
            Console.Out.WriteLine($"  configuration {Text(run, "configuration")} on {Text(run, "dataset")}");
            Console.Out.WriteLine($"  progress      step {run.GetProperty("step").GetInt64():N0} of {run.GetProperty("totalSteps").GetInt64():N0}, epoch {run.GetProperty("epoch").GetInt32()}");
            Console.Out.WriteLine($"  loss          {Number(run, "lastLoss")}   top-1 {Percent(run, "lastTop1")} (best {Percent(run, "bestTop1")})   top-5 {Percent(run, "lastTop5")}");
            foreach (var checkpoint in details.GetProperty("checkpoints").EnumerateArray())
                Console.Out.WriteLine($"  checkpoint    step {checkpoint.GetProperty("step").GetInt64():N0} (epoch {checkpoint.GetProperty("epoch").GetInt32()}) " +
                    string.Join(" ", checkpoint.GetProperty("metrics").EnumerateObject().Select(m => $"{m.Name} {m.Value.GetDouble():G4}")));
            if (details.GetProperty("evaluation") is { ValueKind: JsonValueKind.Object } evaluation)
                Console.Out.WriteLine($"  evaluation    top-1 {Percent(evaluation, "top1")}, top-5 {Percent(evaluation, "top5")} on {evaluation.GetProperty("images").GetInt32():N0} images of {Text(evaluation, "dataset")} ({Text(evaluation, "split")})");
            return 0;
        }));
        return command;
    }

    private static Command Wait()
    {
        var remote = new RemoteOptions();
        var id = new Argument<Guid>("run");
        var timeout = new Option<double?>("--timeout") { Description = "Give up after this many seconds (exit 3)." };
        var command = new Command("wait", "Wait until a run completes (exit 0), fails or is cancelled (exit 1).") { id, timeout };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var deadline = parse.GetValue(timeout) is { } seconds ? DateTime.UtcNow.AddSeconds(seconds) : DateTime.MaxValue;
            string? last = null;
            while (true)
            {
                var run = (await api.GetAsync<JsonElement>($"api/v1/runs/{parse.GetValue(id)}")).GetProperty("run");
                var status = Text(run, "status");
                var line = $"{status} step {run.GetProperty("step").GetInt64():N0}/{run.GetProperty("totalSteps").GetInt64():N0}";
                if (Finished.Contains(status))
                {
                    if (remote.WantsJson(parse)) CliJson.Write(run);
                    else Console.Out.WriteLine($"run {parse.GetValue(id)} {status}{(Text(run, "error") is { Length: > 0 } error ? $": {error}" : "")}");
                    return status == "completed" ? 0 : 1;
                }
                if (!remote.WantsJson(parse) && line != last) Console.Error.WriteLine(line);
                last = line;
                if (DateTime.UtcNow > deadline)
                {
                    Console.Error.WriteLine($"sqnxt: run {parse.GetValue(id)} is still {status} after {parse.GetValue(timeout)} s");
                    return 3;
                }
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }));
        return command;
    }

    private static Command Logs()
    {
        var remote = new RemoteOptions();
        var id = new Argument<Guid>("run");
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until the run finishes." };
        var command = new Command("logs", "A run's event log, oldest first; --json prints one event per line.") { id, follow };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            long after = 0;
            while (true)
            {
                var events = await api.GetAsync<JsonElement[]>($"api/v1/runs/{parse.GetValue(id)}/events?after={after}");
                foreach (var e in events)
                {
                    after = e.GetProperty("id").GetInt64();
                    if (remote.WantsJson(parse)) CliJson.WriteLine(e);
                    else Console.Out.WriteLine($"{e.GetProperty("time").GetDateTimeOffset():yyyy-MM-dd HH:mm:ss} {Text(e, "level"),-7} {Text(e, "kind"),-20} {Text(e, "message")}");
                }
                if (!parse.GetValue(follow) || events.Length > 0 && Finished.Contains(Text(events[^1], "kind"))) return 0;
                if (events.Length == 0)
                {
                    var status = Text((await api.GetAsync<JsonElement>($"api/v1/runs/{parse.GetValue(id)}")).GetProperty("run"), "status");
                    if (Finished.Contains(status)) return 0;
                    await Task.Delay(TimeSpan.FromSeconds(2));
                }
            }
        }));
        return command;
    }

    private static Command Metrics()
    {
        var remote = new RemoteOptions();
        var id = new Argument<Guid>("run");
        var names = new Option<string[]>("--name") { Description = "Only these metrics (train_loss, val_top1, ...); repeat for several.", AllowMultipleArgumentsPerToken = true };
        var csv = new Option<bool>("--csv") { Description = "Print CSV (name,step,epoch,time,value)." };
        var command = new Command("metrics", "Every recorded metric point of a run, as JSON lines or CSV.") { id, names, csv };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var filter = string.Concat((parse.GetValue(names) ?? []).Select(n => $"&name={Uri.EscapeDataString(n)}"));
            if (parse.GetValue(csv))
            {
                Console.Out.Write(await api.GetTextAsync($"api/v1/runs/{parse.GetValue(id)}/metrics?format=csv{filter}"));
                return 0;
            }
            var points = await api.GetAsync<JsonElement>($"api/v1/runs/{parse.GetValue(id)}/metrics?format=json{filter}");
            CliJson.Write(points);
            return 0;
        }));
        return command;
    }

    private static Command Cancel()
    {
        var remote = new RemoteOptions();
        var id = new Argument<Guid>("run");
        var reason = new Option<string?>("--reason");
        var command = new Command("cancel", "Ask a queued or running run to stop (a running one checkpoints first).") { id, reason };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            var answer = await api.PostAsync<JsonElement>($"api/v1/runs/{parse.GetValue(id)}/cancel", new { reason = parse.GetValue(reason) });
            if (remote.WantsJson(parse)) CliJson.Write(answer);
            else Console.Out.WriteLine($"cancel of run {parse.GetValue(id)} sent");
            return 0;
        }));
        return command;
    }

    private static Command Resume()
    {
        var remote = new RemoteOptions();
        var id = new Argument<Guid>("run");
        var command = new Command("resume", "Queue a cancelled or failed training run again, from its newest checkpoint.") { id };
        remote.AddTo(command);
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            using var api = remote.Connect(parse);
            return Queued(await api.PostAsync<JsonElement>($"api/v1/runs/{parse.GetValue(id)}/resume", new { }), remote.WantsJson(parse));
        }));
        return command;
    }

    /// <summary>Prints a queued run (the API's RunAccepted).</summary>
    internal static int Queued(JsonElement accepted, bool json)
    {
        if (json) CliJson.Write(accepted);
        else Console.Out.WriteLine(accepted.GetProperty("duplicate").GetBoolean() ? $"run {Text(accepted, "runId")} already exists" : $"queued {Text(accepted, "kind")} run {Text(accepted, "runId")}");
        return 0;
    }

    internal static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }

    internal static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : "";

    private static string Percent(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("P1", CultureInfo.InvariantCulture) : "-";

    private static string Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("G4", CultureInfo.InvariantCulture) : "-";
}
