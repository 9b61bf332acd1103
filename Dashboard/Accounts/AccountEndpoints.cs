using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace SqueezeNext.Dashboard.Accounts;

/// <summary>Form posts that sign in and out (cookies cannot be set from an interactive circuit), each checking its antiforgery token.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/login", async (HttpContext http, AccountStore accounts, IAntiforgery antiforgery) =>
        {
            // Minimal APIs validate antiforgery tokens only for parameters bound from the form; this form is read by hand.
            if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest("The form has expired or did not come from this site: reload the page.");
            var form = await http.Request.ReadFormAsync();
            var returnUrl = SafeReturnUrl(form["returnUrl"]);
            var outcome = await accounts.SignInAsync(form["username"], form["password"], http.Connection.RemoteIpAddress, http.RequestAborted);
            if (outcome.Account is not { } account)
            {
                var error = outcome.RetryAfter is { } wait ? $"wait&seconds={Math.Ceiling(wait.TotalSeconds)}" : "invalid";
                return Results.Redirect($"/login?error={error}&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }
            var identity = new ClaimsIdentity(Roles.ClaimsOf(account.Name, account.Role), CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.LocalRedirect(returnUrl);
        }).AllowAnonymous();

        app.MapPost("/account/logout", async (HttpContext http, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest("The form has expired or did not come from this site: reload the page.");
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        });
    }

    /// <summary>
    /// Checks a login cookie against the account as it is now: a deleted account is signed out, and a changed role
    /// applies at the next request rather than when the cookie expires.
    /// </summary>
    public static async Task ValidateCookieAsync(CookieValidatePrincipalContext context)
    {
        var name = context.Principal?.Identity?.Name;
        var account = name is null ? null : await context.HttpContext.RequestServices.GetRequiredService<AccountStore>().FindAsync(name, context.HttpContext.RequestAborted);
        if (account is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }
        if (Roles.Of(context.Principal!) == account.Role) return;
        context.ReplacePrincipal(new ClaimsPrincipal(new ClaimsIdentity(Roles.ClaimsOf(account.Name, account.Role), CookieAuthenticationDefaults.AuthenticationScheme)));
        context.ShouldRenew = true;
    }

    /// <summary>Only local paths: a login link must not send people elsewhere.</summary>
    public static string SafeReturnUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";
}
