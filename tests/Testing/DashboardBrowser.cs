using Microsoft.Playwright;

namespace SqueezeNext.Testing;

/// <summary>
/// Debian's Chromium driven by Playwright against one dashboard: pages that record what the browser printed, the
/// sign-in, the wait for the interactive circuit, and the form steps the browser tests share.
/// </summary>
public sealed class DashboardBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;
    private readonly Uri dashboard;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser, Uri dashboard)
    {
        this.playwright = playwright;
        this.browser = browser;
        this.dashboard = dashboard;
    }

    /// <summary>Why no browser can be started here, or null when Chromium is installed.</summary>
    public static string? Unavailable => File.Exists(Chromium) ? null : "Chromium is not installed (scripts/test.sh installs Debian's chromium)";

    public static string Screenshots => Directory.CreateDirectory(Path.Combine(TestServices.RepositoryRoot, "artifacts", "screenshots")).FullName;

    /// <summary>What the browser printed (console, page errors, failed responses), for failure messages.</summary>
    public static List<string> Log { get; } = [];

    public static async Task<DashboardBrowser> LaunchAsync(Uri dashboard)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        return new DashboardBrowser(playwright, browser, dashboard);
    }

    /// <summary>A page in a browser context of its own.</summary>
    /// <param name="storageState">Cookies saved from another context (<c>IBrowserContext.StorageStateAsync</c>); none when null.</param>
    public async Task<IPage> NewPageAsync(string? storageState = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = dashboard.ToString(),
            ViewportSize = new() { Width = 1400, Height = 1000 },
            StorageState = storageState,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        page.Console += (_, message) => { lock (Log) Log.Add($"{message.Type}: {message.Text}"); };
        page.PageError += (_, error) => { lock (Log) Log.Add($"page error: {error}"); };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400) lock (Log) Log.Add($"HTTP {response.Status}: {response.Url}");
        };
        return page;
    }

    public async Task<IPage> SignedInPageAsync(string password)
    {
        var page = await NewPageAsync();
        await SignInAsync(page, password);
        return page;
    }

    /// <summary>Signs in (as admin unless <paramref name="user"/> says otherwise) on the login page and waits to land in the dashboard.</summary>
    public static async Task SignInAsync(IPage page, string password, string user = "admin")
    {
        // The whole login page, scripts included, before typing: on a loaded machine a click during loading was lost
        // once (the sign-in then timed out on the login page).
        await page.GotoAsync("/login", new() { WaitUntil = WaitUntilState.NetworkIdle });
        await page.FillAsync("#username", user);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#sign-in");
        try
        {
            await page.WaitForURLAsync(url => url.EndsWith("/", StringComparison.Ordinal) || url.Contains("/runs", StringComparison.Ordinal));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nsigning in, the browser stayed at {page.Url}\nbrowser:\n{RecentLog()}", e);
        }
    }

    /// <summary>Waits for the interactive circuit: the first click on a prerendered page would otherwise be lost.</summary>
    public static async Task WaitForCircuitAsync(IPage page)
    {
        try
        {
            var path = new Uri(page.Url).PathAndQuery;
            await page.WaitForSelectorAsync($"#circuit-ready[data-ready='true'][data-path='{path}']", new() { State = WaitForSelectorState.Attached });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nbrowser:\n{RecentLog()}", e);
        }
    }

    /// <summary>
    /// Waits until the browser shows an interactive, loaded page whose path and query start with <paramref name="pathStart"/>.
    /// Blazor navigates between pages in the document (history API, no load event), so this waits on the page's own
    /// marker (CircuitReady) rather than on Playwright's navigation events.
    /// </summary>
    public static async Task WaitForPageAsync(IPage page, string pathStart)
    {
        try
        {
            await page.WaitForFunctionAsync(
                """
                start => {
                    const here = location.pathname + location.search;
                    const marker = document.querySelector('#circuit-ready');
                    return here.startsWith(start) && marker?.dataset.ready === 'true' && marker.dataset.path === here;
                }
                """, pathStart);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nexpected a page at {pathStart}, the browser is at {page.Url}\nbrowser:\n{RecentLog()}", e);
        }
    }

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    /// <summary>Starts a short training run of the pre-selected configuration and dataset from the form; returns its id.</summary>
    public static async Task<Guid> StartTrainingAsync(IPage page, long steps, int checkpointEvery)
    {
        await page.GotoAsync("/train/new");
        await WaitForCircuitAsync(page);
        await SetNumberAsync(page, "steps", steps.ToString());
        await SetNumberAsync(page, "batch-size", "32");
        await SetNumberAsync(page, "warmup-steps", "10");
        await SetNumberAsync(page, "eval-every", "40");
        await SetNumberAsync(page, "eval-images", "300");
        await SetNumberAsync(page, "checkpoint-every", checkpointEvery.ToString());
        await SetNumberAsync(page, "precise-bn", "5");
        return await SubmitAsync(page, "#start-training");
    }

    /// <summary>Submits a new-run form and returns the new run's id, or fails with the form's own message if the run was not started.</summary>
    public static async Task<Guid> SubmitAsync(IPage page, string button)
    {
        await page.ClickAsync(button);
        await page.WaitForFunctionAsync("() => location.pathname.startsWith('/runs/') || document.querySelector('#rejection, .field-error') !== null");
        if (!new Uri(page.Url).AbsolutePath.StartsWith("/runs/", StringComparison.Ordinal))
            throw new InvalidOperationException($"the form did not start a run: {await page.InnerTextAsync("form")}\nbrowser:\n{RecentLog()}");
        return Guid.Parse(new Uri(page.Url).Segments[^1]);
    }

    /// <summary>Registers a run's checkpoint as the next version of <paramref name="name"/> and promotes it, on the Models page.</summary>
    public static async Task RegisterAndPromoteAsync(IPage page, Guid run, long step, string name)
    {
        await page.GotoAsync($"/models?run={run}&step={step}");
        await WaitForCircuitAsync(page);
        await page.FillAsync("input[name='register-name']", name);
        await page.Locator("input[name='register-name']").PressAsync("Tab");
        await page.ClickAsync("#register");
        await page.WaitForSelectorAsync($"text=Registered {name} v1");
        var row = page.Locator("#models-grid tr", new() { Has = page.Locator($"td >> text='{name}'") });
        await row.Locator(".promote").ClickAsync();
        await row.Locator(".serving-badge").WaitForAsync();
    }

    public static async Task SetNumberAsync(IPage page, string name, string value)
    {
        var input = page.Locator($"input[name='{name}']");
        await input.FillAsync(value);
        await input.PressAsync("Tab");
    }

    public static string RecentLog()
    {
        lock (Log) return string.Join("\n", Log.TakeLast(30));
    }

    public async ValueTask DisposeAsync()
    {
        await browser.CloseAsync();
        playwright.Dispose();
    }
}
