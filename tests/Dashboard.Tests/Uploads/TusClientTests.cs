using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using SqueezeNext.Cli.Remote;

namespace SqueezeNext.Dashboard.Tests.Uploads;

/// <summary>
/// sqnxt's tus client against the dashboard: an upload whose connection is cut half-way goes on from the server's
/// offset, an upload run again after a crash resumes, and one that cannot go on says which upload to resume.
/// </summary>
[Trait("Level", "processes")]
public sealed class TusClientTests(UploadSite site) : IClassFixture<UploadSite>, IDisposable
{
    private static readonly TimeSpan[] QuickRetries = [.. Enumerable.Repeat(TimeSpan.FromMilliseconds(200), 5)];
    private readonly string folder = Directory.CreateTempSubdirectory("sqnxt-tus-client-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string StateFile => Path.Combine(folder, "uploads.json");

    private string RandomFile(string name, int bytes, int seed)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));

    private static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(file));
    }

    [Fact]
    public async Task A_40_MB_upload_cut_half_way_resumes_from_the_servers_offset_and_stores_the_same_bytes()
    {
        var source = RandomFile("dataset.tar", 40 * 1000 * 1000, seed: 1);
        var token = await site.Accounts.TokenAsync("olga", AccountRole.Operator);
        await using var proxy = new TcpProxy("127.0.0.1", site.Dashboard.Port);
        var resumes = new List<TusResume>();
        long last = 0, sentInAll = 0;
        int cut = 0;
        var options = new TusClientOptions
        {
            RetryDelays = QuickRetries,
            StateFile = StateFile,
            Progress = (sent, total) =>
            {
                if (sent > last) sentInAll += sent - last;
                last = sent;
                if (sent >= total / 2 && Interlocked.Exchange(ref cut, 1) == 0)
                {
                    // The client is held here while the network is cut and restored: the PATCH in flight then breaks off.
                    proxy.CutAsync().GetAwaiter().GetResult();
                    proxy.Restore();
                }
            },
            Resumed = resume =>
            {
                resumes.Add(resume);
                last = resume.Offset;
            },
        };
        using var client = new TusClient(new Uri($"http://127.0.0.1:{proxy.Port}/api/v1/uploads"), token, options);

        var id = await client.UploadFileAsync(source);

        Assert.Matches("^[0-9a-f]{32}$", id);
        // A HEAD that comes while the server still writes the cut-off PATCH's last bytes is followed by a 409 and another.
        Assert.NotEmpty(resumes);
        Assert.All(resumes, resume => Assert.InRange(resume.Offset, 1, new FileInfo(source).Length - 1));
        Assert.True(sentInAll < new FileInfo(source).Length + TusClientOptions.DefaultChunkBytes, $"{sentInAll:N0} bytes sent in all");
        Assert.Equal(Sha256(source), Sha256(Path.Combine(site.UploadFolder, id + ".part")));
        Assert.DoesNotContain(id, File.ReadAllText(StateFile));
    }

    [Fact]
    public async Task A_folder_upload_run_again_after_a_crash_resumes_where_the_server_is()
    {
        var dataset = Directory.CreateDirectory(Path.Combine(folder, "photos")).FullName;
        foreach (var label in new[] { "cat", "dog" })
        {
            Directory.CreateDirectory(Path.Combine(dataset, label));
            for (int i = 0; i < 5; i++) File.Move(RandomFile($"{label}{i}", 1_000_000 + i, seed: i + label.Length), Path.Combine(dataset, label, $"{i}.jpg"));
        }
        var archive = FolderArchive.Create(dataset);
        var token = await site.Accounts.TokenAsync("olga", AccountRole.Operator);
        var endpoint = new Uri(site.Dashboard.BaseAddress, "/api/v1/uploads");

        using var crash = new CancellationTokenSource();
        var first = new TusClient(endpoint, token, new TusClientOptions
        {
            ChunkBytes = 1024 * 1024,
            StateFile = StateFile,
            Progress = (sent, total) => { if (sent > total / 2) crash.Cancel(); },
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.UploadAsync(TusSource.FromFolder(archive), cancellationToken: crash.Token));
        first.Dispose();
        Assert.Contains("photos.tar", File.ReadAllText(StateFile));

        var resumes = new List<TusResume>();
        using var second = new TusClient(endpoint, token, new TusClientOptions { ChunkBytes = 1024 * 1024, StateFile = StateFile, Resumed = resumes.Add });
        var id = await second.UploadAsync(TusSource.FromFolder(FolderArchive.Create(dataset)));

        // The first from the remembered upload; another when the crashed run's last PATCH was still being written.
        var resume = resumes[0];
        Assert.Equal(0, resume.Attempt);
        Assert.EndsWith(id, resume.UploadUrl.AbsolutePath);
        Assert.InRange(resume.Offset, 1, archive.Length - 1);
        Assert.All(resumes.Skip(1), later => Assert.True(later.Offset >= resume.Offset));
        byte[] whole;
        using (var stream = archive.OpenRead())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            whole = copy.ToArray();
        }
        Assert.Equal(Sha256(whole), Sha256(Path.Combine(site.UploadFolder, id + ".part")));
        Assert.DoesNotContain("photos.tar", File.ReadAllText(StateFile));
    }

    [Fact]
    public async Task A_remembered_upload_the_server_no_longer_has_is_started_again()
    {
        var source = RandomFile("small.tar", 3 * 1024 * 1024, seed: 5);
        var token = await site.Accounts.TokenAsync("olga", AccountRole.Operator);
        var endpoint = new Uri(site.Dashboard.BaseAddress, "/api/v1/uploads");
        using var crash = new CancellationTokenSource();
        using (var first = new TusClient(endpoint, token, new TusClientOptions
        {
            ChunkBytes = 1024 * 1024,
            StateFile = StateFile,
            Progress = (sent, _) => { if (sent >= 1024 * 1024) crash.Cancel(); },
        }))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.UploadFileAsync(source, cancellationToken: crash.Token));
        var remembered = new Uri(JsonDocument.Parse(File.ReadAllText(StateFile)).RootElement.EnumerateObject().Single().Value.GetProperty("url").GetString()!);
        using var api = site.Accounts.Client(token);
        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(UploadSite.Tus(HttpMethod.Delete, remembered.AbsolutePath))).StatusCode);

        var resumes = new List<TusResume>();
        using var second = new TusClient(endpoint, token, new TusClientOptions { StateFile = StateFile, Resumed = resumes.Add });
        var id = await second.UploadFileAsync(source);

        Assert.Empty(resumes);
        Assert.DoesNotContain(id, remembered.AbsolutePath);
        Assert.Equal(Sha256(source), Sha256(Path.Combine(site.UploadFolder, id + ".part")));
    }

    [Fact]
    public async Task An_upload_that_cannot_go_on_gives_up_naming_the_upload_to_resume()
    {
        var source = RandomFile("cut.tar", 4 * 1024 * 1024, seed: 9);
        var token = await site.Accounts.TokenAsync("olga", AccountRole.Operator);
        await using var proxy = new TcpProxy("127.0.0.1", site.Dashboard.Port);
        int cut = 0;
        using var client = new TusClient(new Uri($"http://127.0.0.1:{proxy.Port}/api/v1/uploads"), token, new TusClientOptions
        {
            ChunkBytes = 1024 * 1024,
            RetryDelays = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(50)],
            StateFile = StateFile,
            Progress = (sent, _) =>
            {
                if (sent >= 2 * 1024 * 1024 && Interlocked.Exchange(ref cut, 1) == 0) proxy.CutAsync().GetAwaiter().GetResult();
            },
        });

        var error = await Assert.ThrowsAsync<TusUploadException>(() => client.UploadFileAsync(source));

        Assert.NotNull(error.UploadUrl);
        Assert.Matches("/api/v1/uploads/[0-9a-f]{32}", error.Message);
        Assert.Contains(error.UploadUrl!.ToString(), error.Message);
        Assert.Contains("run the same upload again to resume it", error.Message);
        Assert.Contains(error.UploadUrl.ToString(), File.ReadAllText(StateFile));
    }
}
