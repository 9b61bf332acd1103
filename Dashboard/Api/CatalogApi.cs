using System.Security.Claims;
using System.Text.Json;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Data;

namespace SqueezeNext.Dashboard.Api;

/// <summary>/api/v1/configurations and /me: what the workers offer, and who is asking.</summary>
public static class CatalogApi
{
    public static void MapCatalogApi(this RouteGroupBuilder api)
    {
        api.MapGet("/configurations", ConfigurationsAsync).RequireAuthorization(Roles.Viewer).WithTags("Catalog")
            .WithName("ListConfigurations").WithSummary("The named configurations the workers train, with parameters, MACs and full documents");
        api.MapGet("/configurations/{name}", ConfigurationAsync).RequireAuthorization(Roles.Viewer).WithTags("Catalog")
            .WithName("GetConfiguration").WithSummary("One named configuration");
        api.MapGet("/me", WhoAmIAsync).RequireAuthorization(Roles.Viewer).WithTags("Account")
            .WithName("WhoAmI").WithSummary("The account and token the request is made with");
    }

    private static async Task<IResult> ConfigurationsAsync(DashboardQueries queries, CancellationToken cancellationToken) =>
        Results.Ok((await queries.ConfigurationsAsync(cancellationToken)).Select(Info).ToList());

    private static async Task<IResult> ConfigurationAsync(DashboardQueries queries, string name, CancellationToken cancellationToken) =>
        (await queries.ConfigurationsAsync(cancellationToken)).FirstOrDefault(c => c.Name == name) is { } entry
            ? Results.Ok(Info(entry))
            : CommandResults.NotFound($"There is no configuration '{name}'.");

    private static async Task<IResult> WhoAmIAsync(ClaimsPrincipal user, ApiTokens tokens, CancellationToken cancellationToken)
    {
        var name = user.Identity!.Name!;
        var tokenId = Guid.TryParse(user.FindFirstValue(ApiTokenAuthentication.TokenClaim), out var id) ? id : (Guid?)null;
        var token = tokenId is null ? null : (await tokens.ListAsync(name, cancellationToken)).FirstOrDefault(t => t.Id == tokenId);
        return Results.Ok(new WhoAmI(name, Roles.NameOf(Roles.Of(user)!.Value), token?.Name, token?.ExpiresAt));
    }

    private static ConfigurationInfo Info(Persistence.Entities.ConfigurationEntry entry)
    {
        using var document = JsonDocument.Parse(entry.Json);
        return new ConfigurationInfo(entry.Name, entry.Description, entry.Source, entry.Parameters, entry.Macs, document.RootElement.Clone());
    }
}
