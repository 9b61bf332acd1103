using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using SqueezeNext.Dashboard.Accounts;

namespace SqueezeNext.Dashboard.Uploads;

/// <summary>
/// Resumable dataset uploads: the server side of the tus 1.0 protocol (core, creation, termination, expiration),
/// mounted for API tokens under /api/v1/uploads and for the dashboard's pages (login cookie) under /uploads.
/// Written here because no tus server package is served (tusdotnet is not).
/// </summary>
public static class UploadEndpoints
{
    /// <summary>Where the dashboard's pages upload, with the login cookie.</summary>
    public const string PagePrefix = "/uploads";

    public static WebApplicationBuilder AddDatasetUploads(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DatasetUploadOptions>().Bind(builder.Configuration.GetSection(DatasetUploadOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.IncompleteUploadExpiry > TimeSpan.Zero, $"{DatasetUploadOptions.Section}:IncompleteUploadExpiry must be positive")
            .ValidateOnStart();
        services.AddSingleton<UploadStore>();
        services.AddHostedService<UploadSweeper>();
        // A tus client cannot follow the login page's redirect: the pages' uploads answer 401 and 403 as the API does.
        services.PostConfigure<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme, cookie =>
        {
            var toLogin = cookie.Events.OnRedirectToLogin;
            var toDenied = cookie.Events.OnRedirectToAccessDenied;
            cookie.Events.OnRedirectToLogin = context => IsPageUpload(context.Request)
                ? Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not signed in", detail: "Sign in to the dashboard again.").ExecuteAsync(context.HttpContext)
                : toLogin(context);
            cookie.Events.OnRedirectToAccessDenied = context => IsPageUpload(context.Request)
                ? Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not allowed", detail: "Uploading needs the operator role.").ExecuteAsync(context.HttpContext)
                : toDenied(context);
        });
        return builder;
    }

    /// <summary>/api/v1/uploads, in the API's group (Bearer tokens only).</summary>
    public static void MapUploadsApi(this RouteGroupBuilder api) => MapTus(api.MapGroup("/uploads"), forPages: false);

    /// <summary>/uploads for the pages' tus-js-client, with the login cookie and an antiforgery token in a header.</summary>
    public static void MapUploadsForPages(this WebApplication app) => MapTus(app.MapGroup(PagePrefix), forPages: true).ExcludeFromDescription();

    private static RouteGroupBuilder MapTus(RouteGroupBuilder uploads, bool forPages)
    {
        uploads.RequireAuthorization(Roles.Operator).WithTags("Uploads")
            .AddEndpointFilter((context, next) => ProtocolFilterAsync(context, next, forPages));
        void Describe(RouteHandlerBuilder route, string name, string summary)
        {
            if (!forPages) route.WithName(name).WithSummary(summary);
        }

        Describe(uploads.MapMethods("/", [HttpMethods.Options], Capabilities), "UploadCapabilities",
            "tus: the protocol version, extensions and largest upload this server takes (Tus-Version, Tus-Extension, Tus-Max-Size)");
        uploads.MapMethods("/{id}", [HttpMethods.Options], Capabilities).ExcludeFromDescription();
        Describe(uploads.MapPost("/", Create).Produces(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge), "CreateUpload",
            "tus creation: start an upload of Upload-Length bytes (Upload-Metadata: filename and others, base64); 201 with its Location");
        Describe(uploads.MapMethods("/{id}", [HttpMethods.Head], Head).Produces(StatusCodes.Status200OK).Produces(StatusCodes.Status404NotFound)
            .Produces(StatusCodes.Status410Gone), "GetUploadOffset",
            "tus: how many bytes of an upload arrived (Upload-Offset) of how many (Upload-Length)");
        Describe(uploads.MapPatch("/{id}", PatchAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The upload's bytes from Upload-Offset on.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [TusProtocol.OffsetContentType] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                    },
                };
                return Task.CompletedTask;
            }), "AppendToUpload",
            "tus: append the body (application/offset+octet-stream) at Upload-Offset, which must be the bytes received so far; 204 with the new Upload-Offset");
        Describe(uploads.MapDelete("/{id}", DeleteAsync).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound),
            "DeleteUpload", "tus termination: delete an upload, finished or not");
        return uploads;
    }

    /// <summary>
    /// Every answer carries Tus-Resumable, and every request but OPTIONS must send it (412 otherwise). On the pages'
    /// route that custom header also forces a CORS preflight, which this host never grants, and the page's antiforgery
    /// token must come in the header AntiforgeryOptions.HeaderName names (ASP.NET Core's default: RequestVerificationToken).
    /// </summary>
    private static async ValueTask<object?> ProtocolFilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, bool forPages)
    {
        var http = context.HttpContext;
        // tus clients read the status; the pages' error pages would replace it with HTML.
        if (http.Features.Get<IStatusCodePagesFeature>() is { } statusPages) statusPages.Enabled = false;
        http.Response.Headers[TusProtocol.ResumableHeader] = TusProtocol.Version;
        if (HttpMethods.IsOptions(http.Request.Method)) return await next(context);
        if (http.Request.Headers[TusProtocol.ResumableHeader] != TusProtocol.Version)
        {
            http.Response.Headers[TusProtocol.VersionHeader] = TusProtocol.Version;
            return Refuse(http, StatusCodes.Status412PreconditionFailed, $"Send '{TusProtocol.ResumableHeader}: {TusProtocol.Version}', the only tus version this server speaks.");
        }
        if (forPages)
        {
            var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
            try
            {
                await antiforgery.ValidateRequestAsync(http);
            }
            catch (AntiforgeryValidationException)
            {
                return Refuse(http, StatusCodes.Status400BadRequest, "The antiforgery token is missing or did not come from this site: reload the page.");
            }
        }
        return await next(context);
    }

    private static IResult Capabilities(HttpResponse response, UploadStore store)
    {
        response.Headers[TusProtocol.VersionHeader] = TusProtocol.Version;
        response.Headers[TusProtocol.ExtensionHeader] = TusProtocol.Extensions;
        response.Headers[TusProtocol.MaxSizeHeader] = store.Options.MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.NoContent();
    }

    private static IResult Create(HttpContext http, UploadStore store, [FromHeader(Name = TusProtocol.LengthHeader)] string? uploadLength,
        [FromHeader(Name = TusProtocol.MetadataHeader)] string? uploadMetadata)
    {
        if (!TusProtocol.TryParseNumber(uploadLength, out var length))
            return Refuse(http, StatusCodes.Status400BadRequest, $"{TusProtocol.LengthHeader} must be the upload's size in bytes (deferred lengths are not supported).");
        if (length > store.Options.MaxUploadBytes)
            return Refuse(http, StatusCodes.Status413PayloadTooLarge, $"{length:N0} bytes; uploads up to {store.Options.MaxUploadBytes:N0} bytes are taken.");
        if (!TusProtocol.TryParseMetadata(uploadMetadata, out var metadata, out var problem))
            return Refuse(http, StatusCodes.Status400BadRequest, $"{TusProtocol.MetadataHeader}: {problem}.");
        UploadInfo? upload;
        try
        {
            upload = store.Create(length, metadata, AccountOf(http));
        }
        catch (UploadStoreUnavailableException e)
        {
            return Refuse(http, StatusCodes.Status503ServiceUnavailable, $"Uploads cannot be stored: {e.Message}.");
        }
        if (upload is null)
            return Refuse(http, StatusCodes.Status507InsufficientStorage,
                $"The uploads waiting on the data volume would hold more than {store.Options.MaxStoredUploadBytes:N0} bytes; try again once imports have made room.");
        if (upload.ExpiresAt is { } expires) http.Response.Headers[TusProtocol.ExpiresHeader] = TusProtocol.FormatDate(expires);
        // Under the prefix the client used, so that each route's clients stay on it.
        http.Response.Headers.Location = $"{http.Request.PathBase}{http.Request.Path.Value!.TrimEnd('/')}/{upload.Id}";
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    private static IResult Head(HttpContext http, UploadStore store, TimeProvider clock, string id)
    {
        http.Response.Headers.CacheControl = "no-store";
        var upload = store.Find(id, AccountOf(http));
        if (upload is null) return Refuse(http, StatusCodes.Status404NotFound, "There is no such upload.");
        if (upload.IsExpiredAt(clock.GetUtcNow())) return Refuse(http, StatusCodes.Status410Gone, "The upload expired unfinished.");
        var headers = http.Response.Headers;
        headers[TusProtocol.OffsetHeader] = upload.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers[TusProtocol.LengthHeader] = upload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (upload.Metadata.Count > 0) headers[TusProtocol.MetadataHeader] = TusProtocol.FormatMetadata(upload.Metadata);
        if (upload.ExpiresAt is { } expires) headers[TusProtocol.ExpiresHeader] = TusProtocol.FormatDate(expires);
        return Results.Ok();
    }

    private static async Task<IResult> PatchAsync(HttpContext http, UploadStore store, string id, [FromHeader(Name = TusProtocol.OffsetHeader)] string? uploadOffset)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType)
            || !string.Equals(contentType.MediaType.Value, TusProtocol.OffsetContentType, StringComparison.OrdinalIgnoreCase))
            return Refuse(http, StatusCodes.Status415UnsupportedMediaType, $"The body must be sent as {TusProtocol.OffsetContentType}.");
        if (!TusProtocol.TryParseNumber(uploadOffset, out var offset))
            return Refuse(http, StatusCodes.Status400BadRequest, $"{TusProtocol.OffsetHeader} must be the bytes received so far (ask with HEAD).");
        // Kestrel's default body limit would cut off a chunked PATCH that the upload has room for.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = store.Options.MaxUploadBytes;

        var result = await store.AppendAsync(id, AccountOf(http), offset, http.Request.ContentLength, http.Request.Body, http.RequestAborted);
        switch (result.Outcome)
        {
            case AppendOutcome.Appended:
                http.Response.Headers[TusProtocol.OffsetHeader] = result.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (result.ExpiresAt is { } expires) http.Response.Headers[TusProtocol.ExpiresHeader] = TusProtocol.FormatDate(expires);
                return Results.NoContent();
            case AppendOutcome.NotFound:
                return Refuse(http, StatusCodes.Status404NotFound, "There is no such upload.");
            case AppendOutcome.Gone:
                return Refuse(http, StatusCodes.Status410Gone, "The upload expired unfinished.");
            case AppendOutcome.OffsetMismatch:
                return Refuse(http, StatusCodes.Status409Conflict, $"The upload has {result.Offset:N0} bytes, not {offset:N0}: ask for the offset with HEAD.");
            case AppendOutcome.Busy:
                return Refuse(http, StatusCodes.Status409Conflict, "Another request is writing to this upload: ask for the offset with HEAD and try again.");
            case AppendOutcome.TooLong:
                return Refuse(http, StatusCodes.Status413PayloadTooLarge, $"The body goes past the upload's {TusProtocol.LengthHeader}; nothing of it was kept.");
            default:
                return Refuse(http, StatusCodes.Status507InsufficientStorage, $"The bytes could not be stored; {result.Offset:N0} are kept. Try again later.");
        }
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, UploadStore store, string id) =>
        await store.DeleteAsync(id, AccountOf(http), http.RequestAborted) switch
        {
            DeleteOutcome.Deleted => Results.NoContent(),
            DeleteOutcome.Busy => Refuse(http, StatusCodes.Status409Conflict, "Another request is writing to this upload: try again."),
            _ => Refuse(http, StatusCodes.Status404NotFound, "There is no such upload."),
        };

    private static string AccountOf(HttpContext http) => http.User.Identity?.Name ?? throw new InvalidOperationException("an upload route ran without a signed-in account");

    private static bool IsPageUpload(HttpRequest request) => request.Path.StartsWithSegments(PagePrefix);

    /// <summary>A problem, as everywhere in the API; a HEAD answer has no body, so only its status.</summary>
    private static IResult Refuse(HttpContext http, int status, string detail) =>
        HttpMethods.IsHead(http.Request.Method) ? Results.StatusCode(status) : Results.Problem(statusCode: status, detail: detail);
}
