namespace SqueezeNext.Dashboard.Tests.Browser;

[Collection(DashboardSiteCollection.Name)]
[Trait("Level", "browser")]
public sealed class LoginTests(DashboardSite site)
{
    [SkippableFact]
    public async Task Without_login_every_page_redirects_to_the_login_page()
    {
        Skip.If(site.Unavailable is not null, site.Unavailable);
        var page = await site.NewPageAsync();
        foreach (var path in new[] { "/", "/runs", $"/runs/{Guid.NewGuid()}", "/train/new", "/evaluate/new", "/compare", "/models", "/classify" })
        {
            await page.GotoAsync(path);
            Assert.Contains("/login?returnUrl=", page.Url);
            Assert.True(await page.IsVisibleAsync("#sign-in"), $"{path}: no login form");
        }
        await DashboardBrowser.ScreenshotAsync(page, "login");

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = site.Dashboard.BaseAddress };
        var hub = await http.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, hub.StatusCode);

        await page.GotoAsync("/login");
        await page.FillAsync("#password", "wrong password");
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#login-error");
        Assert.Contains("Wrong user or password", await page.InnerTextAsync("#login-error"));
        await page.Context.CloseAsync();
    }
}
