using System.Net;
using System.Text.RegularExpressions;

namespace SqueezeNext.Dashboard.Tests;

/// <summary>
/// The login's defences over plain HTTP, against a dashboard of its own (a lockout would otherwise lock the browser
/// tests out): hashed password, antiforgery on the form post, lockout after five failures, no page or API without login.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private const string Password = "security-test-password";
    private JobSystem system = null!;
    private AppProcess dashboard = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        dashboard = await system.StartDashboardAsync(Password);
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    private HttpClient Client() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = dashboard.BaseAddress };

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient http, string password, bool withToken = true)
    {
        var login = await http.GetStringAsync("/login");
        var token = Regex.Match(login, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        var form = new Dictionary<string, string> { ["username"] = "admin", ["password"] = password, ["returnUrl"] = "/runs" };
        if (withToken) form["__RequestVerificationToken"] = token;
        return await http.PostAsync("/account/login", new FormUrlEncodedContent(form));
    }

    [Fact]
    public async Task The_password_is_stored_hashed_and_never_written_to_the_log()
    {
        await using var db = system.Db();
        var user = await db.DashboardUsers.SingleAsync();

        Assert.StartsWith("pbkdf2-sha256$", user.PasswordHash);
        Assert.DoesNotContain(Password, user.PasswordHash);
        Assert.DoesNotContain(Password, dashboard.ReadLog());
    }

    [Fact]
    public async Task A_login_post_without_the_antiforgery_token_is_refused()
    {
        using var http = Client();

        var response = await SignInAsync(http, Password, withToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await http.GetAsync("/runs")).StatusCode);
    }

    [Fact]
    public async Task The_shared_health_and_metrics_endpoints_answer_without_a_login()
    {
        using var anonymous = Client();

        var ready = await anonymous.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var report = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        Assert.True(report.RootElement.GetProperty("checks").TryGetProperty("postgres", out _));
        Assert.Contains("http_server_request_duration", await anonymous.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task Pages_and_endpoints_need_the_login_and_five_wrong_passwords_lock_the_account()
    {
        using var anonymous = Client();
        foreach (var path in new[] { "/", "/runs", "/models", "/classify", "/train/new", "/evaluate/new", "/compare" })
        {
            var response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login", response.Headers.Location!.OriginalString.Replace(dashboard.BaseAddress.ToString().TrimEnd('/'), ""));
        }
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.PostAsync("/_blazor/negotiate?negotiateVersion=1", null)).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.PostAsync("/account/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);

        using var http = Client();
        var signedIn = await SignInAsync(http, Password);
        Assert.Equal("/runs", signedIn.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/runs")).StatusCode);

        using var attacker = Client();
        for (int attempt = 1; attempt <= 5; attempt++)
        {
            var answer = (await SignInAsync(attacker, $"guess-{attempt}")).Headers.Location!.OriginalString;
            Assert.Contains(attempt < 5 ? "error=invalid" : "error=locked", answer);
        }
        var locked = await SignInAsync(attacker, Password);
        Assert.Contains("error=locked", locked.Headers.Location!.OriginalString);
    }
}
