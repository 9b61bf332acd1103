using MassTransit;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Radzen;
using SqueezeNext.Contracts;
using SqueezeNext.Dashboard.Account;
using SqueezeNext.Dashboard.Components;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Dashboard.Live;
using SqueezeNext.Persistence;

namespace SqueezeNext.Dashboard;

/// <summary>The dashboard's wiring: database, bus, live events, login, health.</summary>
public static class DashboardExtensions
{
    public static WebApplicationBuilder AddDashboardServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var connectionString = JobsDatabase.ConnectionString(configuration);
        services.AddDbContextFactory<JobsDbContext>(db => db.UseNpgsql(connectionString));
        services.AddSingleton<DashboardQueries>();
        services.AddSingleton<AdminAccount>();
        services.AddSingleton<RunNotifier>();

        services.AddOptions<RabbitMqOptions>().Bind(configuration.GetSection(RabbitMqOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            // A temporary queue of its own, so every dashboard replica hears every run event.
            bus.AddConsumer<RunEventsConsumer>().Endpoint(endpoint =>
            {
                endpoint.Temporary = true;
                endpoint.InstanceId = Guid.NewGuid().ToString("N")[..8];
            });
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var settings = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(settings.Host, (ushort)settings.Port, settings.VirtualHost, host =>
                {
                    host.Username(settings.Username);
                    host.Password(settings.Password);
                });
                rabbit.ConfigureEndpoints(context);
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
                options.ReturnUrlParameter = "returnUrl";
                options.Cookie.Name = "sqnxt-dashboard";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.ExpireTimeSpan = TimeSpan.FromHours(12);
                options.SlidingExpiration = true;
            });
        // Everything needs a signed-in user unless it says otherwise: pages, endpoints and the Blazor hub.
        services.AddAuthorizationBuilder().SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddCascadingAuthenticationState();

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddRadzenComponents();
        services.AddHealthChecks().AddCheck<JobsDatabaseHealthCheck>("postgres", tags: ["ready"]);
        return builder;
    }

    public static WebApplication UseDashboard(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment()) app.UseExceptionHandler("/Error", createScopeForErrors: true);
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        app.MapAccountEndpoints();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Applies migrations (waiting for the database) and makes sure the admin account exists.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await JobsDatabase.MigrateAsync(app.Services.GetRequiredService<IDbContextFactory<JobsDbContext>>(),
            app.Services.GetRequiredService<ILogger<JobsDbContext>>(), TimeSpan.FromMinutes(1));
        await app.Services.GetRequiredService<AdminAccount>().EnsureCreatedAsync();
    }
}
