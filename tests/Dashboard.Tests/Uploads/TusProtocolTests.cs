using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SqueezeNext.Dashboard.Api;

namespace SqueezeNext.Dashboard.Tests.Uploads;

/// <summary>
/// The tus 1.0 server of /api/v1/uploads against the dashboard process, as a tus client meets it: OPTIONS, creation,
/// HEAD, PATCH and its refusals, termination, and who may touch an upload.
/// </summary>
[Trait("Level", "processes")]
public sealed class TusProtocolTests(UploadSite site) : IClassFixture<UploadSite>
{
    private const string Prefix = "/api/v1/uploads";

    private async Task<HttpClient> OperatorAsync(string name = "olga")
    {
        var token = await site.Accounts.TokenAsync(name, AccountRole.Operator);
        return site.Accounts.Client(token);
    }

    private static async Task<HttpResponseMessage> HeadAsync(HttpClient http, string url) => await http.SendAsync(UploadSite.Tus(HttpMethod.Head, url));

    [Fact]
    public async Task OPTIONS_names_the_version_the_extensions_and_the_largest_upload()
    {
        using var http = await OperatorAsync();

        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Options, Prefix));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("1.0.0", UploadSite.Header(response, "Tus-Version"));
        Assert.Equal(["creation", "termination", "expiration"], UploadSite.Header(response, "Tus-Extension").Split(','));
        Assert.Equal(UploadSite.MaxUploadBytes.ToString(), UploadSite.Header(response, "Tus-Max-Size"));
    }

    [Fact]
    public async Task Creation_answers_201_with_a_Location_under_the_prefix_and_HEAD_tells_the_offset_length_and_metadata()
    {
        using var http = await OperatorAsync();

        using var created = await http.SendAsync(UploadSite.Create(Prefix, 1000, "filename ZGF0YXNldC50YXI=,kind"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!.OriginalString;
        Assert.Matches("^/api/v1/uploads/[0-9a-f]{32}$", location);
        Assert.Equal("1.0.0", UploadSite.Header(created, "Tus-Resumable"));
        var expires = DateTimeOffset.Parse(UploadSite.Header(created, "Upload-Expires"));
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(25));

        using var head = await HeadAsync(http, location);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("0", UploadSite.Header(head, "Upload-Offset"));
        Assert.Equal("1000", UploadSite.Header(head, "Upload-Length"));
        Assert.Equal("no-store", UploadSite.Header(head, "Cache-Control"));
        Assert.Equal("filename ZGF0YXNldC50YXI=,kind", UploadSite.Header(head, "Upload-Metadata"));

        var id = location.Split('/')[^1];
        Assert.Empty(await File.ReadAllBytesAsync(Path.Combine(site.UploadFolder, id + ".part")));
        using var record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(site.UploadFolder, id + ".json")));
        Assert.Equal("olga", record.RootElement.GetProperty("accountName").GetString());
        Assert.Equal("dataset.tar", record.RootElement.GetProperty("metadata").GetProperty("filename").GetString());
        Assert.Equal(1000, record.RootElement.GetProperty("length").GetInt64());
    }

    [Fact]
    public async Task PATCH_appends_at_the_offset_and_a_wrong_offset_is_409()
    {
        using var http = await OperatorAsync();
        var location = await UploadSite.CreateAsync(http, Prefix, 1000);
        var bytes = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();

        using var first = await http.SendAsync(UploadSite.Patch(location, 0, bytes[..400]));
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal("400", UploadSite.Header(first, "Upload-Offset"));
        Assert.NotEmpty(UploadSite.Header(first, "Upload-Expires"));

        using var again = await http.SendAsync(UploadSite.Patch(location, 0, bytes[..400]));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var ahead = await http.SendAsync(UploadSite.Patch(location, 500, bytes[500..]));
        Assert.Equal(HttpStatusCode.Conflict, ahead.StatusCode);

        using var rest = await http.SendAsync(UploadSite.Patch(location, 400, bytes[400..]));
        Assert.Equal(HttpStatusCode.NoContent, rest.StatusCode);
        Assert.Equal("1000", UploadSite.Header(rest, "Upload-Offset"));
        Assert.Empty(UploadSite.Header(rest, "Upload-Expires"));
        Assert.Equal(bytes, site.StoredBytes(location));
        using var head = await HeadAsync(http, location);
        Assert.Equal("1000", UploadSite.Header(head, "Upload-Offset"));
    }

    [Fact]
    public async Task PATCH_with_another_content_type_is_415_and_without_Tus_Resumable_412()
    {
        using var http = await OperatorAsync();
        var location = await UploadSite.CreateAsync(http, Prefix, 10);

        using var json = await http.SendAsync(UploadSite.Patch(location, 0, new byte[10], "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);

        var bare = UploadSite.Patch(location, 0, new byte[10]);
        bare.Headers.Remove("Tus-Resumable");
        using var noVersion = await http.SendAsync(bare);
        Assert.Equal(HttpStatusCode.PreconditionFailed, noVersion.StatusCode);
        Assert.Equal("1.0.0", UploadSite.Header(noVersion, "Tus-Version"));

        using var head = await HeadAsync(http, location);
        Assert.Equal("0", UploadSite.Header(head, "Upload-Offset"));
    }

    [Fact]
    public async Task A_PATCH_past_the_upload_length_is_413_and_keeps_nothing_of_it_whether_its_length_is_declared_or_not()
    {
        using var http = await OperatorAsync();
        var location = await UploadSite.CreateAsync(http, Prefix, 100);
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(UploadSite.Patch(location, 0, new byte[60]))).StatusCode);

        using var declared = await http.SendAsync(UploadSite.Patch(location, 60, new byte[41]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);

        var chunked = UploadSite.Tus(HttpMethod.Patch, location, new StreamContent(new UnknownLengthStream(new byte[41])));
        chunked.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        chunked.Headers.Add("Upload-Offset", "60");
        using var undeclared = await http.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, undeclared.StatusCode);

        using var head = await HeadAsync(http, location);
        Assert.Equal("60", UploadSite.Header(head, "Upload-Offset"));
    }

    [Fact]
    public async Task A_chunked_PATCH_larger_than_Kestrels_default_body_limit_is_taken_whole()
    {
        using var http = await OperatorAsync();
        var bytes = new byte[40 * 1024 * 1024];
        new Random(3).NextBytes(bytes);
        var location = await UploadSite.CreateAsync(http, Prefix, bytes.Length);

        var chunked = UploadSite.Tus(HttpMethod.Patch, location, new StreamContent(new UnknownLengthStream(bytes)));
        chunked.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        chunked.Headers.Add("Upload-Offset", "0");
        using var response = await http.SendAsync(chunked);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(bytes.Length.ToString(), UploadSite.Header(response, "Upload-Offset"));
        Assert.Equal(bytes, site.StoredBytes(location));
    }

    [Fact]
    public async Task DELETE_removes_the_upload_and_its_files()
    {
        using var http = await OperatorAsync();
        var location = await UploadSite.CreateAsync(http, Prefix, 10);
        var id = location.Split('/')[^1];

        using var deleted = await http.SendAsync(UploadSite.Tus(HttpMethod.Delete, location));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await HeadAsync(http, location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(UploadSite.Patch(location, 0, new byte[10]))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(UploadSite.Tus(HttpMethod.Delete, location))).StatusCode);
        Assert.DoesNotContain(Directory.EnumerateFiles(site.UploadFolder), f => Path.GetFileName(f).StartsWith(id));
    }

    [Fact]
    public async Task Another_account_gets_404_for_each_method_and_the_upload_stays_untouched()
    {
        using var owner = await OperatorAsync("owen");
        using var other = await OperatorAsync("otto");
        var location = await UploadSite.CreateAsync(owner, Prefix, 10);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.SendAsync(UploadSite.Patch(location, 0, [1, 2, 3]))).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await HeadAsync(other, location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.SendAsync(UploadSite.Patch(location, 3, [4, 5]))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.SendAsync(UploadSite.Tus(HttpMethod.Delete, location))).StatusCode);

        using var head = await HeadAsync(owner, location);
        Assert.Equal("3", UploadSite.Header(head, "Upload-Offset"));
    }

    [Fact]
    public async Task A_viewer_token_is_403_and_no_token_401_as_problems()
    {
        using var operatorClient = await OperatorAsync();
        var location = await UploadSite.CreateAsync(operatorClient, Prefix, 10);
        using var viewer = site.Accounts.Client(await site.Accounts.TokenAsync("vera", AccountRole.Viewer));
        using var anonymous = site.Accounts.Client(null);

        foreach (var (client, expected) in new[] { (viewer, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            foreach (var request in new[] { UploadSite.Create(Prefix, 10), UploadSite.Patch(location, 0, new byte[10]), UploadSite.Tus(HttpMethod.Delete, location) })
            {
                using var response = await client.SendAsync(request);
                Assert.Equal(expected, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
            Assert.Equal(expected, (await HeadAsync(client, location)).StatusCode);
        }
        using var head = await HeadAsync(operatorClient, location);
        Assert.Equal("0", UploadSite.Header(head, "Upload-Offset"));
    }

    [Fact]
    public async Task An_upload_over_MaxUploadBytes_is_413_and_a_missing_length_400()
    {
        using var http = await OperatorAsync();

        using var tooLarge = await http.SendAsync(UploadSite.Create(Prefix, UploadSite.MaxUploadBytes + 1));
        using var atTheLimit = await http.SendAsync(UploadSite.Create(Prefix, UploadSite.MaxUploadBytes));
        var deferred = UploadSite.Tus(HttpMethod.Post, Prefix);
        deferred.Headers.Add("Upload-Defer-Length", "1");
        using var noLength = await http.SendAsync(deferred);
        using var badMetadata = await http.SendAsync(UploadSite.Create(Prefix, 10, "filename not-base64!"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.Created, atTheLimit.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noLength.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badMetadata.StatusCode);
    }

    [Theory]
    [InlineData("..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("..")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789abcdef0123456789abcde.")]
    [InlineData("0123456789abcdef0123456789abcdef.json")]
    [InlineData("%2E%2E%2F.uploads")]
    public async Task An_id_that_is_not_32_lowercase_hex_digits_is_404(string id)
    {
        using var http = await OperatorAsync();
        var url = $"{Prefix}/{id}";

        Assert.Equal(HttpStatusCode.NotFound, (await HeadAsync(http, url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(UploadSite.Patch(url, 0, new byte[4]))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(UploadSite.Tus(HttpMethod.Delete, url))).StatusCode);
    }

    [Fact]
    public async Task The_upload_routes_are_in_the_OpenAPI_document_with_the_operator_role()
    {
        using var anonymous = site.Accounts.Client(null);
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync(ApiEndpoints.DocumentPath));
        var paths = document.RootElement.GetProperty("paths");

        var collection = paths.GetProperty("/api/v1/uploads");
        var upload = paths.GetProperty("/api/v1/uploads/{id}");
        foreach (var operation in new[] { collection.GetProperty("post"), collection.GetProperty("options"), upload.GetProperty("head"), upload.GetProperty("patch"), upload.GetProperty("delete") })
        {
            Assert.Equal("operator", operation.GetProperty(ApiEndpoints.RoleExtension).GetString());
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
        }
        Assert.True(upload.GetProperty("patch").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/offset+octet-stream", out _));
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/uploads"));
    }

    /// <summary>A body whose length HttpClient cannot know, so it goes chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
