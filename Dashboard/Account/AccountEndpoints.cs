using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace SqueezeNext.Dashboard.Account;

/// <summary>Form posts that sign in and out (cookies cannot be set from an interactive circuit), each checking its antiforgery token.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/login", async (HttpContext http, AdminAccount account, IAntiforgery antiforgery) =>
        {
            // Minimal APIs validate antiforgery tokens only for parameters bound from the form; this form is read by hand.
            if (!await antiforgery.IsRequestValidAsync(http)) return Results.BadRequest("The form has expired or did not come from this site: reload the page.");
            var form = await http.Request.ReadFormAsync();
            var returnUrl = SafeReturnUrl(form["returnUrl"]);
            var result = await account.SignInAsync(form["username"], form["password"]);
            if (result != SignInResult.Success)
            {
                var error = result == SignInResult.LockedOut ? "locked" : "invalid";
                return Results.Redirect($"/login?error={error}&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, AdminAccount.UserName)], CookieAuthenticationDefaults.AuthenticationScheme);
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

    /// <summary>Only local paths: a login link must not send people elsewhere.</summary>
    public static string SafeReturnUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";
}
