using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Accounts;

/// <summary>
/// The authorization policies, one per role. A signed-in principal carries a role claim for its own role and every
/// role below it, so "operator" admits operators and admins.
/// </summary>
public static class Roles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";

    public static string NameOf(AccountRole role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? name, out AccountRole role) =>
        Enum.TryParse(name, ignoreCase: true, out role) && Enum.IsDefined(role);

    /// <summary>The claims of a signed-in account: its name, and a role claim per role it holds.</summary>
    public static IEnumerable<Claim> ClaimsOf(string accountName, AccountRole role) =>
        [new Claim(ClaimTypes.Name, accountName), .. Enum.GetValues<AccountRole>().Where(r => r <= role).Select(r => new Claim(ClaimTypes.Role, NameOf(r)))];

    /// <summary>The highest role the principal holds, or null for one that holds none.</summary>
    public static AccountRole? Of(ClaimsPrincipal user) =>
        Enum.GetValues<AccountRole>().Where(r => user.IsInRole(NameOf(r))).Cast<AccountRole?>().LastOrDefault();

    public static AuthorizationBuilder AddRolePolicies(this AuthorizationBuilder authorization, params string[] schemes)
    {
        foreach (var role in Enum.GetValues<AccountRole>())
            authorization.AddPolicy(NameOf(role), policy =>
            {
                if (schemes.Length > 0) policy.AddAuthenticationSchemes(schemes);
                policy.RequireAuthenticatedUser().RequireRole(NameOf(role));
            });
        return authorization;
    }
}
