using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace SqueezeNext.Dashboard.Tests.Browser;

/// <summary>The API tokens page and the admin's accounts page, in a real browser, checked against the API.</summary>
[Collection(DashboardSiteCollection.Name)]
[Trait("Level", "browser")]
public sealed class AccountPagesTests(DashboardSite site)
{
    private HttpClient Api(string token)
    {
        var http = new HttpClient { BaseAddress = site.Dashboard.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    [SkippableFact]
    public Task A_token_is_shown_once_works_on_the_api_and_stops_working_when_revoked() => site.OnPageAsync("api-tokens", async page =>
    {
        await page.GotoAsync("/account/tokens");
        await DashboardBrowser.WaitForCircuitAsync(page);
        await page.FillAsync("#token-name", "browser ci");
        await page.ClickAsync("#create-token");
        var secret = (await page.InnerTextAsync("#token-secret")).Trim();
        Assert.Matches("^sqnxt_[A-Za-z0-9_-]{43}$", secret);
        await DashboardBrowser.ScreenshotAsync(page, "api-tokens");

        using var api = Api(secret);
        var me = await api.GetStringAsync("/api/v1/me");
        Assert.Contains("\"name\":\"admin\"", me);
        Assert.Contains("\"tokenName\":\"browser ci\"", me);

        // Shown once: the page, opened again, lists the token by its prefix only.
        await page.GotoAsync("/account/tokens");
        await DashboardBrowser.WaitForCircuitAsync(page);
        Assert.DoesNotContain(secret, await page.ContentAsync());
        var row = page.Locator("#tokens-grid tr", new() { HasTextString = "browser ci" });
        Assert.Contains(secret[..12], await row.InnerTextAsync());

        await row.Locator(".revoke-token").ClickAsync();
        await page.WaitForSelectorAsync("#tokens-message");
        using var refused = await api.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync());
    });

    [SkippableFact]
    public Task An_admin_makes_a_viewer_who_can_read_but_not_start_runs() => site.OnPageAsync("accounts", async page =>
    {
        await page.GotoAsync("/accounts");
        await DashboardBrowser.WaitForCircuitAsync(page);
        var name = $"viewer-{Guid.NewGuid():N}"[..20];
        await page.FillAsync("#account-name", name);
        await page.ClickAsync("#create-account");
        var message = await page.InnerTextAsync("#accounts-message");
        var password = Regex.Match(message, "shown only now: (\\S+)").Groups[1].Value;
        Assert.True(password.Length >= 12, message);
        Assert.Contains(name, await page.InnerTextAsync("#accounts-grid"));

        var viewer = await site.NewPageAsync();
        await DashboardBrowser.SignInAsync(viewer, password, name);
        Assert.Contains($"{name} (viewer)", await viewer.InnerTextAsync("#signed-in-as"));
        var navigation = await viewer.InnerTextAsync(".sidebar-nav");
        Assert.Contains("Runs", navigation);
        Assert.DoesNotContain("New training", navigation);
        Assert.DoesNotContain("Accounts", navigation);
        foreach (var path in new[] { "/train/new", "/classify", "/accounts" })
        {
            await viewer.GotoAsync(path);
            await viewer.WaitForSelectorAsync("#not-allowed");
        }
        await DashboardBrowser.ScreenshotAsync(viewer, "viewer-not-allowed");
        await viewer.Context.CloseAsync();
    });
}
