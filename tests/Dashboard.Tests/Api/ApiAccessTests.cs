using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SqueezeNext.Dashboard.Api;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>
/// Every route of the OpenAPI document, as the document itself lists it, refuses a request without a token, with an
/// expired or revoked token, and with a token whose account has a lower role than the route names.
/// </summary>
[Trait("Level", "processes")]
public sealed class ApiAccessTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private ApiAccounts accounts = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        dashboard = await system.StartDashboardAsync("api-access-test-password");
        accounts = new ApiAccounts(system, dashboard.BaseAddress);
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    private sealed record Route(string Method, string Path, string Role, string? ContentType);

    private async Task<IReadOnlyList<Route>> RoutesAsync()
    {
        using var anonymous = accounts.Client(null);
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync(ApiEndpoints.DocumentPath));
        var routes = new List<Route>();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                Assert.True(operation.Value.TryGetProperty(ApiEndpoints.RoleExtension, out var role), $"{operation.Name} {path.Name} names no role");
                Assert.True(operation.Value.TryGetProperty("security", out _), $"{operation.Name} {path.Name} names no security scheme");
                var contentType = operation.Value.TryGetProperty("requestBody", out var body) ? body.GetProperty("content").EnumerateObject().First().Name : null;
                routes.Add(new Route(operation.Name.ToUpperInvariant(), Concrete(path.Name), role.GetString()!, contentType));
            }
        return routes;
    }

    /// <summary>The route with its parameters filled in: ids, names and versions that exist or not, it does not matter here.</summary>
    private static string Concrete(string template) => Regex.Replace(template, "{([^}:]+)[^}]*}", m => m.Groups[1].Value switch
    {
        "id" => Guid.NewGuid().ToString(),
        "version" or "classIndex" or "index" => "1",
        _ => "anything",
    });

    /// <summary>A request with an empty body of the kind the route takes (JSON, or a multipart form for uploads).</summary>
    private static HttpRequestMessage RequestFor(Route route) => new(new HttpMethod(route.Method), route.Path)
    {
        Content = route.Method == "GET" ? null
            : route.ContentType == "multipart/form-data" ? new MultipartFormDataContent()
            : new StringContent("{}", Encoding.UTF8, "application/json"),
    };

    [Fact]
    public async Task Every_route_refuses_no_token_an_expired_or_revoked_token_and_a_lower_role()
    {
        var routes = await RoutesAsync();
        // The document must list the API (runs, models, catalog, classify), or this test would prove nothing.
        Assert.True(routes.Count >= 18, $"only {routes.Count} routes in the OpenAPI document");
        Assert.Contains(routes, r => r.Role == "viewer");
        Assert.Contains(routes, r => r.Role == "operator");
        Assert.Contains(routes, r => r.Role == "admin");

        var tokens = new Dictionary<string, string>
        {
            ["viewer"] = await accounts.TokenAsync("ada-viewer", AccountRole.Viewer),
            ["operator"] = await accounts.TokenAsync("olga-operator", AccountRole.Operator),
            ["admin"] = await accounts.TokenAsync("adam-admin", AccountRole.Admin),
        };
        // Made ten days ago with seven days to live; and one made now and revoked.
        var past = new ShiftedClock(TimeSpan.FromDays(-10));
        var expired = (await accounts.Tokens(past).CreateAsync("adam-admin", "expired", TimeSpan.FromDays(7))).Secret;
        var revokedToken = await accounts.Tokens().CreateAsync("adam-admin", "revoked", TimeSpan.FromDays(7));
        Assert.True(await accounts.Tokens().RevokeAsync("adam-admin", revokedToken.Token.Id));

        var failures = new List<string>();
        async Task ExpectAsync(Route route, string? token, HttpStatusCode expected, string reason, string? detail = null)
        {
            using var http = accounts.Client(token);
            using var response = await http.SendAsync(RequestFor(route));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != expected)
                failures.Add($"{route.Method} {route.Path} with {reason}: {(int)response.StatusCode}, not {(int)expected}");
            else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                failures.Add($"{route.Method} {route.Path} with {reason}: answered {response.Content.Headers.ContentType}, not problem details");
            else if (detail is not null && !body.Contains(detail, StringComparison.OrdinalIgnoreCase))
                failures.Add($"{route.Method} {route.Path} with {reason}: the problem does not say '{detail}': {body}");
        }

        var lower = new Dictionary<string, string> { ["operator"] = "viewer", ["admin"] = "operator" };
        foreach (var route in routes)
        {
            await ExpectAsync(route, null, HttpStatusCode.Unauthorized, "no token", "Bearer");
            await ExpectAsync(route, expired, HttpStatusCode.Unauthorized, "an expired token", "expired");
            await ExpectAsync(route, revokedToken.Secret, HttpStatusCode.Unauthorized, "a revoked token", "revoked");
            await ExpectAsync(route, "sqnxt_not-a-token-anyone-made", HttpStatusCode.Unauthorized, "an unknown token", "unknown");
            if (lower.TryGetValue(route.Role, out var lowerRole))
                await ExpectAsync(route, tokens[lowerRole], HttpStatusCode.Forbidden, $"a {lowerRole} token", lowerRole);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // And the right role gets through to the handler on every route that only reads.
        foreach (var route in routes.Where(r => r.Method == "GET"))
        {
            using var http = accounts.Client(tokens[route.Role]);
            using var response = await http.SendAsync(RequestFor(route));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET {route.Path} as {route.Role}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task The_reference_page_and_the_document_need_no_token_and_unknown_api_paths_are_problems()
    {
        using var anonymous = accounts.Client(null);

        var reference = await anonymous.GetAsync(ApiEndpoints.ReferencePath);
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        var html = await reference.Content.ReadAsStringAsync();
        Assert.True(html.Contains("v1.json") && !html.Contains("cdn.jsdelivr.net"), html);

        var unknown = await anonymous.GetAsync("/api/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_role_change_applies_to_existing_tokens_at_once()
    {
        var token = await accounts.TokenAsync("rita", AccountRole.Operator);
        using var http = accounts.Client(token);
        Assert.Contains("\"operator\"", await http.GetStringAsync("/api/v1/me"));

        Assert.Null(await accounts.Accounts().SetRoleAsync("rita", AccountRole.Viewer));

        Assert.Contains("\"viewer\"", await http.GetStringAsync("/api/v1/me"));
        using var refused = await http.PostAsync("/api/v1/runs/training", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
