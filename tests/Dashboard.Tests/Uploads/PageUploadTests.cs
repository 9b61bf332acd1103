using System.Net;
using System.Net.Http.Headers;

namespace SqueezeNext.Dashboard.Tests.Uploads;

/// <summary>
/// /uploads, where the dashboard's pages upload with the login cookie: the same tus server, refusing what a page on
/// another site could send (no Tus-Resumable, no antiforgery token of this account) and answering 401 and 403 rather
/// than the login page's redirect.
/// </summary>
[Trait("Level", "processes")]
public sealed class PageUploadTests(UploadSite site) : IClassFixture<UploadSite>
{
    private const string Prefix = "/uploads";

    private static HttpRequestMessage WithToken(HttpRequestMessage request, string antiforgery)
    {
        request.Headers.Add(UploadSite.AntiforgeryHeader, antiforgery);
        return request;
    }

    private int UploadCount() => Directory.Exists(site.UploadFolder) ? Directory.GetFiles(site.UploadFolder, "*.json").Length : 0;

    [Fact]
    public async Task A_signed_in_page_creates_appends_reads_and_deletes_an_upload_under_uploads()
    {
        var (http, token) = await site.SignedInAsync();
        using (http)
        {
            using var created = await http.SendAsync(WithToken(UploadSite.Create(Prefix, 4), token));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var location = created.Headers.Location!.OriginalString;
            Assert.Matches("^/uploads/[0-9a-f]{32}$", location);

            using var patched = await http.SendAsync(WithToken(UploadSite.Patch(location, 0, [9, 8, 7, 6]), token));
            Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
            using var head = await http.SendAsync(WithToken(UploadSite.Tus(HttpMethod.Head, location), token));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("4", UploadSite.Header(head, "Upload-Offset"));
            Assert.Equal([9, 8, 7, 6], site.StoredBytes(location));

            // The same upload through the API, for the same account's token.
            using var api = site.Accounts.Client(await site.Accounts.TokenAsync("admin", AccountRole.Admin));
            using var viaApi = await api.SendAsync(UploadSite.Tus(HttpMethod.Head, "/api/v1" + location));
            Assert.Equal("4", UploadSite.Header(viaApi, "Upload-Offset"));

            using var deleted = await http.SendAsync(WithToken(UploadSite.Tus(HttpMethod.Delete, location), token));
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
    }

    [Fact]
    public async Task Without_the_antiforgery_header_or_Tus_Resumable_a_signed_in_request_is_refused()
    {
        var (http, token) = await site.SignedInAsync();
        int uploadsBefore = UploadCount();
        using (http)
        {
            using var noToken = await http.SendAsync(UploadSite.Create(Prefix, 4));
            Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);

            using var wrongToken = await http.SendAsync(WithToken(UploadSite.Create(Prefix, 4), token[..^4] + "AAAA"));
            Assert.Equal(HttpStatusCode.BadRequest, wrongToken.StatusCode);

            var bare = WithToken(UploadSite.Create(Prefix, 4), token);
            bare.Headers.Remove("Tus-Resumable");
            using var noVersion = await http.SendAsync(bare);
            Assert.Equal(HttpStatusCode.PreconditionFailed, noVersion.StatusCode);

            Assert.Equal(uploadsBefore, UploadCount());
        }
    }

    [Fact]
    public async Task Without_a_login_it_is_401_for_a_viewer_403_and_never_the_login_pages_redirect()
    {
        using var anonymous = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = site.Dashboard.BaseAddress };
        using var noLogin = await anonymous.SendAsync(UploadSite.Create(Prefix, 4));
        Assert.Equal(HttpStatusCode.Unauthorized, noLogin.StatusCode);
        Assert.Equal("application/problem+json", noLogin.Content.Headers.ContentType?.MediaType);

        // An API token is not a login here: this route takes the cookie only.
        var bearer = UploadSite.Create(Prefix, 4);
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await site.Accounts.TokenAsync("olga", AccountRole.Operator));
        using var withToken = await anonymous.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.Unauthorized, withToken.StatusCode);

        if (await site.Accounts.Accounts().FindAsync("vic") is null)
            Assert.Null(await site.Accounts.Accounts().CreateAsync("vic", "a-long-enough-password", AccountRole.Viewer));
        var (viewer, token) = await site.SignedInAsync("vic", "a-long-enough-password");
        using (viewer)
        {
            using var refused = await viewer.SendAsync(WithToken(UploadSite.Create(Prefix, 4), token));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
    }
}
