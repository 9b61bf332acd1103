using System.Text.Json;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt login URL</c> and <c>sqnxt logout</c>: the dashboard and API token the remote commands use.</summary>
public static class LoginCommand
{
    public static Command Login()
    {
        var url = new Argument<string>("url") { Description = "The dashboard's address, e.g. http://127.0.0.1:5080." };
        var token = new Option<string?>("--token") { Description = "An API token from the dashboard's API tokens page (default: $SQNXT_TOKEN, else read from standard input)." };
        var json = new Option<bool>("--json") { Description = "Print the account as JSON." };
        var command = new Command("login", "Check an API token against a dashboard and keep both for the remote commands (runs, models, submit, classify).") { url, token, json };
        command.SetAction(parse => CliErrors.Run(async () =>
        {
            var address = parse.GetValue(url)!.TrimEnd('/');
            var secret = parse.GetValue(token) ?? Environment.GetEnvironmentVariable("SQNXT_TOKEN") ?? ReadToken(address);
            if (string.IsNullOrWhiteSpace(secret)) throw new CliUsageException("no token given");
            using var api = new ApiClient(address, secret.Trim());
            var me = await api.GetAsync<JsonElement>("api/v1/me");
            new Credentials(address, secret.Trim()).Save();
            if (parse.GetValue(json))
            {
                CliJson.Write(me);
                return 0;
            }
            var expires = me.TryGetProperty("tokenExpiresAt", out var e) && e.ValueKind == JsonValueKind.String ? $"; the token expires {e.GetDateTimeOffset():yyyy-MM-dd HH:mm} UTC" : "";
            Console.Out.WriteLine($"signed in to {address} as {me.GetProperty("name").GetString()} ({me.GetProperty("role").GetString()}){expires}; saved in {Credentials.FilePath}");
            return 0;
        }));
        return command;
    }

    public static Command Logout()
    {
        var command = new Command("logout", "Forget the saved dashboard address and token (the token itself stays valid until revoked on the dashboard).");
        command.SetAction(_ => CliErrors.Run(() =>
        {
            Console.Out.WriteLine(Credentials.Delete() ? $"removed {Credentials.FilePath}" : "not signed in");
            return 0;
        }));
        return command;
    }

    private static string? ReadToken(string address)
    {
        if (!Console.IsInputRedirected) Console.Error.Write($"API token (make one at {address}/account/tokens): ");
        return Console.In.ReadLine();
    }
}
