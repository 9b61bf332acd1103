using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Uploads;

namespace SqueezeNext.Dashboard.Api;

/// <summary>
/// The HTTP API under /api/v1, for scripts and other languages: Bearer tokens only (never the login cookie, so no
/// page can be made to call it), RFC 9457 problems for every error, and an OpenAPI document with a reference page.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string ReferencePath = "/api/reference";

    /// <summary>The OpenAPI extension that names the role an operation needs.</summary>
    public const string RoleExtension = "x-sqnxt-role";

    /// <summary>A property path as JSON names it: each segment in camelCase.</summary>
    private static string JsonPath(string path) => string.Join('.', path.Split('.').Select(System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName));

    public static IServiceCollection AddApi(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // The validation of request bodies names C# properties (Settings.BatchSize); callers sent JSON (settings.batchSize).
            if (context.ProblemDetails is HttpValidationProblemDetails validation)
                validation.Errors = validation.Errors.ToDictionary(e => JsonPath(e.Key), e => e.Value);
        });
        services.AddValidation();
        services.AddOpenApi("v1", options =>
        {
            options.ShouldInclude = description => description.RelativePath?.StartsWith(Prefix[1..], StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "SqueezeNext.Jobs API";
                document.Info.Description = "Runs, metrics, models, configurations, datasets and classification. Send a personal API token (made on the " +
                    "dashboard's API tokens page) as 'Authorization: Bearer <token>'. Viewers read; operators also submit, cancel, resume, classify and upload " +
                    "and import datasets (tus 1.0 at /uploads, then POST /datasets/{name}/versions); admins also register, import and promote models and delete dataset versions. Errors are RFC 9457 problem details; a submission's idempotency key is its command id.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A personal API token (sqnxt_...).",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var role = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null);
                if (role is null) return Task.CompletedTask;
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", context.Document)] = [] }];
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                operation.Extensions[RoleExtension] = new JsonNodeExtension(JsonValue.Create(role));
                operation.Description = $"Needs the {role} role or higher.";
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No token, or an unknown, expired or revoked one (problem details)." });
                operation.Responses.TryAdd("403", new OpenApiResponse { Description = $"The token's account has a role below {role} (problem details)." });
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        // Every route authenticates with a token only; each names the role it needs.
        var api = app.MapGroup(Prefix).RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = ApiTokenAuthentication.SchemeName });
        api.MapRunsApi();
        api.MapModelsApi();
        api.MapCatalogApi();
        api.MapDatasetsApi();
        api.MapClassifyApi();
        api.MapUploadsApi();
        // An unknown API path is a problem too, not the dashboard's not-found page.
        api.MapFallback(() => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "There is no such API route; see " + DocumentPath))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapOpenApi(DocumentPath).AllowAnonymous();
        app.MapScalarApiReference(ReferencePath, options => options
            .WithTitle("SqueezeNext.Jobs API")
            .WithOpenApiRoutePattern(DocumentPath)
            .AddPreferredSecuritySchemes(["Bearer"])).AllowAnonymous();
        return app;
    }

    public static bool IsApiRequest(HttpContext http) => http.Request.Path.StartsWithSegments(Prefix);
}
