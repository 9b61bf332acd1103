using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>Datasets through the API and sqnxt: upload (tus), import, read, roles, and deletion only of what no run read.</summary>
[Trait("Level", "processes")]
public sealed class DatasetApiTests : IAsyncLifetime
{
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private ApiAccounts accounts = null!;
    private string folder = null!;

    public async Task InitializeAsync()
    {
        folder = Directory.CreateTempSubdirectory("sqnxt-datasets-").FullName;
        system = await JobSystem.CreateAsync();
        await system.StartWorkerAsync();
        dashboard = await system.StartDashboardAsync("dataset-test-password");
        accounts = new ApiAccounts(system, dashboard.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        await system.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    [SkippableFact]
    public async Task Sqnxt_uploads_a_folder_and_an_archive_and_only_an_unread_version_can_be_deleted()
    {
        Skip.IfNot(TestDatasets.FashionMnistInstalled, "dataset-fashion-mnist is not installed");
        var viewer = await accounts.TokenAsync("vic", AccountRole.Viewer);
        var operatorToken = await accounts.TokenAsync("olga", AccountRole.Operator);
        var admin = await accounts.TokenAsync("ada", AccountRole.Admin);
        var archive = TestDatasets.FashionZip(Path.Combine(folder, "shoes.zip"), perClass: 10, classes: [5, 7, 9]);
        var source = Path.Combine(folder, "shoes");
        ZipFile.ExtractToDirectory(archive, source);

        var refused = Sqnxt(viewer, "datasets", "upload", source, "--name", "shoes");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("operator", refused.Error);

        // A folder is packed as a tar while it streams; the command waits for the import and prints the version.
        var first = Json(Sqnxt(operatorToken, "datasets", "upload", source, "--name", "shoes", "--validation-fraction", "0.3", "--json"));
        Assert.Equal(("ready", 1, 21, 9), (first.GetProperty("status").GetString(), first.GetProperty("version").GetInt32(),
            first.GetProperty("trainImages").GetInt32(), first.GetProperty("validationImages").GetInt32()));
        Assert.Equal(["ankle-boot", "sandal", "sneaker"], first.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("olga", first.GetProperty("createdBy").GetString());
        // The archive of the same images is the same content: the same digest.
        var second = Json(Sqnxt(operatorToken, "datasets", "upload", archive, "--name", "shoes", "--validation-fraction", "0.3", "--json"));
        Assert.Equal(2, second.GetProperty("version").GetInt32());
        Assert.Equal(first.GetProperty("digest").GetString(), second.GetProperty("digest").GetString());
        Assert.Equal("shoes.zip", second.GetProperty("sourceName").GetString());

        var listed = Json(Sqnxt(viewer, "datasets", "list", "--json"));
        var shoes = listed.EnumerateArray().Single(d => d.GetProperty("name").GetString() == "shoes");
        Assert.Equal(("versioned", 2, 2), (shoes.GetProperty("kind").GetString(), shoes.GetProperty("versions").GetInt32(), shoes.GetProperty("latestVersion").GetInt32()));
        Assert.Contains("sneaker", Ok(Sqnxt(viewer, "datasets", "show", "shoes@1")));
        Assert.Contains("v2", Ok(Sqnxt(viewer, "datasets", "show", "shoes")));

        // A run reads v1; v1 is then kept, and v2, which nobody read, may go (admin only).
        using var api = accounts.Client(operatorToken);
        using var submitted = await api.PostAsJsonAsync("/api/v1/runs/training", new { configuration = "1.0-SqNxt-23-28px", dataset = "shoes@1", settings = new { maxSteps = 1, batchSize = 8 } });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var runId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
        var run = await api.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal((1, first.GetProperty("digest").GetString()), (run.GetProperty("datasetVersion").GetInt32(), run.GetProperty("datasetDigest").GetString()));

        Assert.Contains("admin", Sqnxt(operatorToken, "datasets", "delete", "shoes@2").Error);
        var used = Sqnxt(admin, "datasets", "delete", "shoes@1");
        Assert.Equal(1, used.ExitCode);
        Assert.Contains($"used by run {runId}", used.Error);
        Assert.Contains("deleted shoes v2", Ok(Sqnxt(admin, "datasets", "delete", "shoes@2")));
        await using var db = system.Db();
        // A deleted version's row stays, marked, so that shoes@2 never names other data; its files are gone.
        Assert.Equal([(1, DatasetVersionStatus.Ready), (2, DatasetVersionStatus.Deleted)],
            (await db.DatasetVersions.Where(v => v.DatasetName == "shoes").OrderBy(v => v.Version).ToListAsync()).Select(v => (v.Version, v.Status)));
        Assert.Single(Directory.GetDirectories(Path.Combine(system.DataRoot, DataVolume.Versions, "shoes")));
        var third = Json(Sqnxt(operatorToken, "datasets", "upload", archive, "--name", "shoes", "--json"));
        Assert.Equal(3, third.GetProperty("version").GetInt32());
        // The uploads were imported and are gone from the volume.
        Assert.Empty(Directory.GetFiles(Path.Combine(system.DataRoot, DataVolume.Uploads)));
    }

    [Fact]
    public async Task The_import_route_names_a_bad_source_and_reads_archives_from_incoming()
    {
        var operatorToken = await accounts.TokenAsync("olga", AccountRole.Operator);
        var other = await accounts.TokenAsync("oscar", AccountRole.Operator);
        using var api = accounts.Client(operatorToken);

        async Task<JsonElement> RefusedAsync(object body, string name = "photos2", HttpStatusCode status = HttpStatusCode.BadRequest)
        {
            using var response = await api.PostAsJsonAsync($"/api/v1/datasets/{name}/versions", body);
            Assert.Equal(status, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
        Assert.Contains("exactly one", (await RefusedAsync(new { })).GetProperty("errors").GetProperty("upload")[0].GetString());
        Assert.Contains("exactly one", (await RefusedAsync(new { upload = new string('a', 32), file = "x.zip" })).GetProperty("detail").GetString());
        Assert.Contains("no upload", (await RefusedAsync(new { upload = "../../etc" })).GetProperty("detail").GetString());
        Assert.Contains("not a folder name", (await RefusedAsync(new { file = "x.zip" }, name: "bad%20name")).GetProperty("errors").GetProperty("name")[0].GetString());

        // Another account's upload, and an unfinished one, are not importable.
        using var otherApi = accounts.Client(other);
        using var created = await otherApi.SendAsync(TusCreate(100));
        var otherId = created.Headers.Location!.ToString().Split('/')[^1];
        Assert.Contains("no upload", (await RefusedAsync(new { upload = otherId })).GetProperty("detail").GetString());
        using var mine = await api.SendAsync(TusCreate(100));
        var mineId = mine.Headers.Location!.ToString().Split('/')[^1];
        Assert.Contains("has 0 of its 100 bytes", (await RefusedAsync(new { upload = mineId })).GetProperty("detail").GetString());

        // The workers refuse what they may not read, naming the field.
        var refusal = await RefusedAsync(new { file = "../secret.zip" }, status: HttpStatusCode.UnprocessableEntity);
        Assert.Contains("not a path inside incoming/", refusal.GetProperty("errors").GetProperty("path")[0].GetString());

        // An archive an operator placed under incoming/ imports without an upload.
        var incoming = Directory.CreateDirectory(Path.Combine(system.DataRoot, DataVolume.Incoming)).FullName;
        using (var zip = ZipFile.Open(Path.Combine(incoming, "photos.zip"), ZipArchiveMode.Create))
        {
            zip.CreateEntryFromFile(TestServices.Fixture("chelsea.png"), "cats/chelsea.png");
            zip.CreateEntryFromFile(TestServices.Fixture("tabby_cat.jpg"), "cats/tabby.jpg");
            zip.CreateEntryFromFile(TestServices.Fixture("coffee.png"), "cups/coffee.png");
            zip.CreateEntryFromFile(TestServices.Fixture("rocket.jpg"), "cups/not-a-cup.jpg");
        }
        using var accepted = await api.PostAsJsonAsync("/api/v1/datasets/photos2/versions", new { file = "photos.zip", validationFraction = 0.5 });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("/api/v1/datasets/photos2/versions/1", accepted.Headers.Location!.ToString());
        var version = await system.WaitForAsync(async db => await db.DatasetVersions.FirstOrDefaultAsync(v => v.DatasetName == "photos2" && v.Status == DatasetVersionStatus.Ready),
            TimeSpan.FromMinutes(1), "the import");
        Assert.Equal((2, 2, 2), (version.Classes, version.TrainImages, version.ValidationImages));
        var info = await api.GetFromJsonAsync<JsonElement>("/api/v1/datasets/photos2/versions/1");
        Assert.Equal("incoming/photos.zip", info.GetProperty("sourceName").GetString());
        Assert.Equal(0.5, info.GetProperty("report").GetProperty("splitFraction").GetDouble());
        using var thumbnail = await api.GetAsync("/api/v1/datasets/photos2/versions/1/thumbnails/0/0");
        Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/datasets/photos2/versions/1/thumbnails/0/99")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/v1/datasets/nothing")).StatusCode);
        Assert.True(File.Exists(Path.Combine(incoming, "photos.zip")), "an operator's archive is left in place");
    }

    private static HttpRequestMessage TusCreate(long length)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/uploads/");
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString());
        return request;
    }

    private (int ExitCode, string Output, string Error) Sqnxt(string token, params string[] args)
    {
        var arguments = string.Join(" ", args.Select(a => a.Contains(' ') ? $"\"{a}\"" : a)) + $" --url {dashboard.BaseAddress} --token {token}";
        var environment = new Dictionary<string, string> { ["SQNXT_CONFIG_DIR"] = Path.Combine(folder, "config") };
        return ExternalProcess.Capture("dotnet", $"\"{Path.Combine(TestServices.ProjectOutput("Cli"), "sqnxt.dll")}\" {arguments}", folder, TimeSpan.FromMinutes(5), environment);
    }

    private static string Ok((int ExitCode, string Output, string Error) result)
    {
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Error}{result.Output}");
        return result.Output;
    }

    private static JsonElement Json((int ExitCode, string Output, string Error) result) => JsonDocument.Parse(Ok(result)).RootElement;
}
