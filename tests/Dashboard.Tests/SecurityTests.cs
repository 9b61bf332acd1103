using SqueezeNext.Dashboard.Accounts;
using System.Net;
using System.Text.RegularExpressions;

namespace SqueezeNext.Dashboard.Tests;

/// <summary>
/// The login's defences over plain HTTP, against a dashboard of its own: hashed password, antiforgery on the form
/// post, backoff for whoever fails (never a lockout for everyone), no page or endpoint without login.
/// </summary>
[Trait("Level", "processes")]
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

    /// <param name="from">The loopback address the client connects from (Linux routes all of 127.0.0.0/8 to loopback), to be another client.</param>
    private HttpClient Client(string from = "127.0.0.1") => new(new SocketsHttpHandler
    {
        CookieContainer = new CookieContainer(),
        AllowAutoRedirect = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    }) { BaseAddress = dashboard.BaseAddress };

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient http, string password, bool withToken = true, string user = "admin")
    {
        var login = await http.GetStringAsync("/login");
        var token = Regex.Match(login, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        var form = new Dictionary<string, string> { ["username"] = user, ["password"] = password, ["returnUrl"] = "/runs" };
        if (withToken) form["__RequestVerificationToken"] = token;
        return await http.PostAsync("/account/login", new FormUrlEncodedContent(form));
    }

    [Fact]
    public async Task The_password_is_stored_hashed_and_never_written_to_the_log()
    {
        await using var db = system.Db();
        var user = await db.Accounts.SingleAsync();

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
    public async Task Pages_and_endpoints_need_the_login()
    {
        using var anonymous = Client();
        foreach (var path in new[] { "/", "/runs", "/models", "/classify", "/train/new", "/evaluate/new", "/compare", "/account/tokens", "/accounts" })
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
    }

    [Fact]
    public async Task Somebody_elses_wrong_passwords_slow_them_down_and_never_stop_the_admin_signing_in()
    {
        // Another client guesses the admin's password until it is told to wait; it always is, because each failure
        // past the free ones doubles its wait.
        using var attacker = Client(from: "127.0.0.2");
        int attempts = 0;
        string answer;
        do
        {
            attempts++;
            answer = (await SignInAsync(attacker, $"guess-{attempts}")).Headers.Location!.OriginalString;
            Assert.True(answer.Contains("error=invalid") || answer.Contains("error=wait"), answer);
        }
        while (!answer.Contains("error=wait") && attempts < 30);
        Assert.Contains("error=wait", answer);
        Assert.True(attempts > LoginThrottling.FreeFailuresPerAccount, $"told to wait after {attempts} attempts");
        // While it waits, even the right password is not checked for it.
        Assert.Contains("error=wait", (await SignInAsync(attacker, Password)).Headers.Location!.OriginalString);

        // The admin, from another address, signs in at once with the right password.
        using var admin = Client();
        var signedIn = await SignInAsync(admin, Password);
        Assert.Equal("/runs", signedIn.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/runs")).StatusCode);

        // The wait is recorded for the attacker's address and for the name as tried from it, and for nobody else.
        await using var db = system.Db();
        var keys = await db.LoginThrottles.Select(t => t.Key).ToListAsync();
        Assert.Equal(["account:admin@127.0.0.2", "address:127.0.0.2"], keys.Order().ToArray());
    }
}
