using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace SqueezeNext.Cli.Remote;

/// <summary>
/// The dashboard's HTTP API as <c>sqnxt</c>'s remote commands use it: the address and token from --url/--token,
/// else $SQNXT_URL/$SQNXT_TOKEN, else <c>sqnxt login</c>'s file; every refusal one line naming the problem.
/// </summary>
public sealed class ApiClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient http;

    public ApiClient(string url, string token, TimeSpan? timeout = null)
    {
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
            throw new CliUsageException($"'{url}' is not an http(s) address of a SqueezeNext.Jobs dashboard");
        BaseAddress = address;
        // The API answers commands once a worker has; a download may wait for an ONNX export.
        http = new HttpClient { BaseAddress = address, Timeout = timeout ?? TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("sqnxt", typeof(ApiClient).Assembly.GetName().Version?.ToString() ?? "1"));
    }

    public Uri BaseAddress { get; }

    /// <summary>Resumable uploads to /api/v1/uploads with this client's address and token.</summary>
    public TusClient Uploads(TusClientOptions? options = null) => new(http, new Uri(BaseAddress, "api/v1/uploads"), options);

    /// <summary>The client for the signed-in dashboard (<see cref="RemoteOptions"/>).</summary>
    public static ApiClient FromSettings(string? url, string? token)
    {
        url ??= Given("SQNXT_URL");
        token ??= Given("SQNXT_TOKEN");
        if (url is null || token is null)
        {
            var saved = Credentials.Load();
            url ??= saved?.Url;
            token ??= saved?.Token;
        }
        if (url is null || token is null)
            throw new CliUsageException("not signed in: run 'sqnxt login URL' with a token from the dashboard's API tokens page (or set SQNXT_URL and SQNXT_TOKEN)");
        return new ApiClient(url, token);
    }

    private static string? Given(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;

    public Task<T> GetAsync<T>(string path) => SendAsync<T>(new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/')));

    public Task<T> PostAsync<T>(string path, object? body) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = JsonContent.Create(body ?? new { }, options: Json) });

    public Task<T> PostAsync<T>(string path, HttpContent content) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = content });

    /// <summary>A DELETE that answers with no body.</summary>
    public async Task DeleteAsync(string path)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, path.TrimStart('/')));
    }

    /// <summary>A GET whose body is a file: the bytes, and the name the server gives it.</summary>
    public async Task<(byte[] Bytes, string? FileName, string? Sha256)> DownloadAsync(string path)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/')));
        var name = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"');
        var sha = response.Headers.TryGetValues("X-Content-SHA256", out var values) ? values.FirstOrDefault() : null;
        return (await response.Content.ReadAsByteArrayAsync(), name, sha);
    }

    /// <summary>A GET whose body is text (CSV).</summary>
    public async Task<string> GetTextAsync(string path)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/')));
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request)
    {
        using var response = await SendRawAsync(request);
        return await response.Content.ReadFromJsonAsync<T>(Json) ?? throw new CliUsageException($"{request.RequestUri}: the dashboard sent an empty answer");
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new CliUsageException($"cannot reach the dashboard at {BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            throw new CliUsageException($"the dashboard at {BaseAddress} did not answer within {http.Timeout.TotalSeconds:N0} s");
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
            throw new CliUsageException(await ProblemAsync(response));
    }

    /// <summary>An RFC 9457 problem as one line: its detail, and the fields it names.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        string status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            var detail = root.TryGetProperty("detail", out var d) && d.GetString() is { Length: > 0 } dd ? dd
                : root.TryGetProperty("title", out var t) ? t.GetString() : null;
            var fields = root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object
                ? errors.EnumerateObject().Select(e => $"{e.Name}: {string.Join("; ", e.Value.EnumerateArray().Select(v => v.GetString()))}").ToList()
                : [];
            var said = detail ?? status;
            foreach (var field in fields.Where(f => !said.Contains(f, StringComparison.Ordinal))) said += $" ({field})";
            return response.StatusCode == HttpStatusCode.Unauthorized ? $"{said} Run 'sqnxt login URL' with a valid token." : said;
        }
        catch (JsonException)
        {
            return $"{status}{(text.Length is > 0 and < 300 ? ": " + text : "")}";
        }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>--url and --token, on every remote command.</summary>
public sealed class RemoteOptions
{
    public Option<string?> Url { get; } = new("--url") { Description = "The dashboard's address (default: $SQNXT_URL, else the one 'sqnxt login' saved)." };
    public Option<string?> Token { get; } = new("--token") { Description = "An API token (default: $SQNXT_TOKEN, else the one 'sqnxt login' saved)." };
    public Option<bool> Json { get; } = new("--json") { Description = "Print the answer as JSON." };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(Json);
    }

    public ApiClient Connect(ParseResult parse) => ApiClient.FromSettings(parse.GetValue(Url), parse.GetValue(Token));

    public bool WantsJson(ParseResult parse) => parse.GetValue(Json);
}
