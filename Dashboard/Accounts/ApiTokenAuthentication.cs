using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace SqueezeNext.Dashboard.Accounts;

/// <summary>
/// The API's authentication: "Authorization: Bearer sqnxt_..." with a personal token. A refusal is a problem details
/// answer naming why (no token, unknown, expired, revoked, role too low), never the login page's redirect.
/// </summary>
public sealed class ApiTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    public const string TokenClaim = "sqnxt:token";
    private const string ProblemKey = "sqnxt.token-problem";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return Fail("the Authorization header must be 'Bearer <token>'");
        var check = await tokens.CheckAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (check.Account is not { } account) return Fail(check.Problem!);
        var identity = new ClaimsIdentity(Roles.ClaimsOf(account.Name, account.Role), SchemeName);
        identity.AddClaim(new Claim(TokenClaim, check.Token!.Id.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var problem = Context.Items[ProblemKey] as string;
        Response.Headers.WWWAuthenticate = problem is null ? "Bearer" : $"Bearer error=\"invalid_token\", error_description=\"{problem}\"";
        return WriteProblemAsync(StatusCodes.Status401Unauthorized, "Not signed in",
            problem is null ? "Send a personal API token as 'Authorization: Bearer <token>'; make one on the dashboard's API tokens page." : $"{char.ToUpperInvariant(problem[0])}{problem[1..]}.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Not allowed",
            $"This needs a higher role than '{(Roles.Of(Context.User) is { } role ? Roles.NameOf(role) : "none")}' (viewers read; operators also submit, cancel and classify; admins also manage models and accounts).");

    private AuthenticateResult Fail(string problem)
    {
        Context.Items[ProblemKey] = problem;
        return AuthenticateResult.Fail(problem);
    }

    private Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(Context);
    }
}
