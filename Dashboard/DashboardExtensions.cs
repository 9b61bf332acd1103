using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Radzen;
using SqueezeNext.Dashboard.Accounts;
using SqueezeNext.Dashboard.Api;
using SqueezeNext.Dashboard.Messaging;
using SqueezeNext.Dashboard.Components;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Dashboard.Datasets;
using SqueezeNext.Dashboard.Live;
using SqueezeNext.Dashboard.Telemetry;
using SqueezeNext.Dashboard.Uploads;
using SqueezeNext.ServiceDefaults;
using SqueezeNext.ServiceDefaults.Database;
using SqueezeNext.ServiceDefaults.Messaging;
using SqueezeNext.ServiceDefaults.Telemetry;

namespace SqueezeNext.Dashboard;

/// <summary>The dashboard's wiring: queries, live events and login, on the shared host defaults.</summary>
public static class DashboardExtensions
{
    public static WebApplicationBuilder AddDashboardServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        builder.AddServiceDefaults(new HostTelemetry("sqnxt-dashboard", Meters: [DashboardMetrics.MeterName], ActivitySources: []));
        services.AddSingleton<DashboardMetrics>();
        services.AddHostedService<SystemStateMonitor>();
        services.AddSingleton<DashboardQueries>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<LoginThrottling>();
        services.AddSingleton<AccountStore>();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<RunNotifier>();
        services.AddSingleton<WorkerCommands>();
        services.AddSingleton<DatasetFiles>();

        builder.AddJobsBus(bus =>
        {
            // A temporary queue of its own, so every dashboard replica hears every run event.
            bus.AddConsumer<RunEventsConsumer>().Endpoint(endpoint =>
            {
                endpoint.Temporary = true;
                endpoint.InstanceId = Guid.NewGuid().ToString("N")[..8];
            });
        });

        // Login cookies and antiforgery tokens are sealed with these keys; in a container they live on a volume so
        // that a restart or a new image does not sign everyone out.
        if (configuration["DataProtection:KeysDirectory"] is { Length: > 0 } keys)
            services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(keys)).SetApplicationName("sqnxt-dashboard");

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.LoginPath = "/login";
                options.AccessDeniedPath = "/denied";
                options.ReturnUrlParameter = "returnUrl";
                options.Cookie.Name = "sqnxt-dashboard";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.ExpireTimeSpan = TimeSpan.FromHours(12);
                options.SlidingExpiration = true;
                options.Events.OnValidatePrincipal = AccountEndpoints.ValidateCookieAsync;
            })
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiTokenAuthentication>(ApiTokenAuthentication.SchemeName, null);
        // Everything needs a signed-in user unless it says otherwise: pages, endpoints and the Blazor hub. The role
        // policies authenticate with the cookie on pages and with an API token under /api (ApiEndpoints).
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddRolePolicies();
        services.AddApi();
        builder.AddDatasetUploads();
        services.AddCascadingAuthenticationState();

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddRadzenComponents();
        return builder;
    }

    public static WebApplication UseDashboard(this WebApplication app)
    {
        // The API answers errors with problem details; pages with the error and not-found pages.
        app.UseWhen(ApiEndpoints.IsApiRequest, api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });
        app.UseWhen(http => !ApiEndpoints.IsApiRequest(http), pages =>
        {
            if (!app.Environment.IsDevelopment()) pages.UseExceptionHandler("/Error", createScopeForErrors: true);
            pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapDefaultEndpoints();
        app.MapAccountEndpoints();
        app.MapUploadsForPages();
        app.MapDatasetFiles();
        app.MapApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Applies migrations (waiting for the database) and makes sure the admin account exists.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await app.MigrateJobsDatabaseAsync();
        await app.Services.GetRequiredService<AccountStore>().EnsureAdminAsync();
    }
}
