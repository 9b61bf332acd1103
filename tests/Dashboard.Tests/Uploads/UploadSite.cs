using System.Net;
using System.Text.RegularExpressions;
using SqueezeNext.Dashboard.Tests.Api;
using SqueezeNext.Dashboard.Uploads;

namespace SqueezeNext.Dashboard.Tests.Uploads;

/// <summary>
/// A dashboard whose data root is the test's own, with uploads up to <see cref="MaxUploadBytes"/>, shared by the
/// tests of one class; and the requests a tus client makes of it, with a token or with the login cookie.
/// </summary>
public sealed class UploadSite : IAsyncLifetime
{
    public const string Password = "upload-test-password";
    public const long MaxUploadBytes = 64L * 1024 * 1024;

    /// <summary>ASP.NET Core's default AntiforgeryOptions.HeaderName, which the dashboard keeps.</summary>
    public const string AntiforgeryHeader = "RequestVerificationToken";

    public JobSystem System { get; private set; } = null!;
    public AppProcess Dashboard { get; private set; } = null!;
    public ApiAccounts Accounts { get; private set; } = null!;

    public string UploadFolder => Path.Combine(System.DataRoot, UploadStore.FolderName);

    public async Task InitializeAsync()
    {
        System = await JobSystem.CreateAsync();
        Dashboard = await System.StartDashboardAsync(Password, new Dictionary<string, string>
        {
            ["Datasets__DataRoot"] = System.DataRoot,
            ["Datasets__MaxUploadBytes"] = MaxUploadBytes.ToString(),
        });
        Accounts = new ApiAccounts(System, Dashboard.BaseAddress);
    }

    public async Task DisposeAsync() => await System.DisposeAsync();

    /// <summary>A request as tus clients send it: with Tus-Resumable.</summary>
    public static HttpRequestMessage Tus(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        return request;
    }

    public static HttpRequestMessage Create(string prefix, long length, string? metadata = "filename ZGF0YXNldC50YXI=")
    {
        var request = Tus(HttpMethod.Post, prefix);
        request.Headers.Add("Upload-Length", length.ToString());
        if (metadata is not null) request.Headers.Add("Upload-Metadata", metadata);
        return request;
    }

    public static HttpRequestMessage Patch(string url, long offset, byte[] bytes, string contentType = "application/offset+octet-stream")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        var request = Tus(HttpMethod.Patch, url, content);
        request.Headers.Add("Upload-Offset", offset.ToString());
        return request;
    }

    /// <summary>Creates an upload and returns its Location.</summary>
    public static async Task<string> CreateAsync(HttpClient http, string prefix, long length)
    {
        using var response = await http.SendAsync(Create(prefix, length));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.Headers.Location!.OriginalString;
    }

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    /// <summary>A cookie client signed in as <paramref name="user"/>, and the antiforgery token its pages carry.</summary>
    public async Task<(HttpClient Http, string Antiforgery)> SignedInAsync(string user = "admin", string password = Password)
    {
        var http = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = Dashboard.BaseAddress };
        var login = await http.GetStringAsync("/login");
        var form = new Dictionary<string, string>
        {
            ["username"] = user, ["password"] = password, ["returnUrl"] = "/runs",
            ["__RequestVerificationToken"] = AntiforgeryToken(login),
        };
        using var signedIn = await http.PostAsync("/account/login", new FormUrlEncodedContent(form));
        Assert.Equal("/runs", signedIn.Headers.Location?.OriginalString);
        // The signed-in layout's sign-out form holds a token issued for this account.
        return (http, AntiforgeryToken(await http.GetStringAsync("/runs")));
    }

    private static string AntiforgeryToken(string page) =>
        Regex.Match(page, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } token
            ? token
            : throw new InvalidOperationException("the page holds no antiforgery token");

    /// <summary>The bytes stored for an upload.</summary>
    public byte[] StoredBytes(string location) => File.ReadAllBytes(Path.Combine(UploadFolder, location.Split('/')[^1] + ".part"));
}
