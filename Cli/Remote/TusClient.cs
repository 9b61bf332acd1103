using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SqueezeNext.Cli.Remote;

/// <summary>
/// The client side of the tus 1.0 resumable upload protocol (core and creation), for dataset archives sent to the
/// dashboard: the bytes go in PATCHes of <see cref="TusClientOptions.ChunkBytes"/>; after a failed or cut-off PATCH
/// it asks the server with HEAD how much arrived and goes on from there. Unfinished uploads are remembered by their
/// source's fingerprint in a file beside sqnxt's credentials, so the same upload run again after a crash resumes.
/// </summary>
public sealed class TusClient : IDisposable
{
    public const string ProtocolVersion = "1.0.0";
    public const string OffsetContentType = "application/offset+octet-stream";

    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly Uri endpoint;
    private readonly TusClientOptions options;

    /// <summary>A client of the tus <paramref name="endpoint"/> (such as https://host/api/v1/uploads) that sends <paramref name="token"/> as a Bearer token.</summary>
    public TusClient(Uri endpoint, string token, TusClientOptions? options = null)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, endpoint, options, ownsHttp: true)
    {
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>A client that sends its requests through <paramref name="http"/>, which carries the credentials and stays the caller's.</summary>
    public TusClient(HttpClient http, Uri endpoint, TusClientOptions? options = null)
        : this(http, endpoint, options, ownsHttp: false)
    {
    }

    private TusClient(HttpClient http, Uri endpoint, TusClientOptions? options, bool ownsHttp)
    {
        this.http = http;
        this.ownsHttp = ownsHttp;
        this.endpoint = endpoint;
        this.options = options ?? new TusClientOptions();
        if (this.options.ChunkBytes is < 1 or > TusClientOptions.MaxChunkBytes)
            throw new ArgumentOutOfRangeException(nameof(options), $"ChunkBytes must be 1 to {TusClientOptions.MaxChunkBytes}");
    }

    public Task<string> UploadFileAsync(string path, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        UploadAsync(TusSource.FromFile(path), metadata, cancellationToken);

    /// <summary>
    /// Uploads <paramref name="source"/> and returns the upload's id. A source with a fingerprint that this client
    /// started to upload to the same endpoint before, and that the server still has, is resumed from the server's offset.
    /// </summary>
    /// <exception cref="TusUploadException">The server refused the upload, or it failed more often in a row than there are retry delays.</exception>
    public async Task<string> UploadAsync(TusSource source, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        var memory = options.StateFile is { } file && source.Fingerprint is { } fingerprint ? new UploadMemory(file, $"{endpoint} {fingerprint}") : null;
        Uri? url = null;
        long offset = 0;
        if (memory?.Recall() is { } remembered && remembered.Length == source.Length)
        {
            if (await RetryAsync(remembered.Url, token => OffsetAsync(remembered.Url, source.Length, mayBeGone: true, token), cancellationToken) is { } at)
            {
                url = remembered.Url;
                offset = at;
                options.Resumed?.Invoke(new TusResume(url, offset, 0, "an earlier run started this upload"));
            }
            else
                memory.Forget();
        }
        if (url is null)
        {
            url = await RetryAsync(endpoint, token => CreateAsync(source, metadata, token), cancellationToken);
            memory?.Remember(url, source.Length, source.FileName);
        }
        await SendAsync(url, source, offset, cancellationToken);
        memory?.Forget();
        return url.Segments[^1].TrimEnd('/');
    }

    /// <summary>
    /// Sends the source from <paramref name="offset"/> on, one chunk in memory at a time: a PATCH cut off within it
    /// goes on from wherever the server's offset says, without reading the source again.
    /// </summary>
    private async Task SendAsync(Uri url, TusSource source, long offset, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Max(1, Math.Min(options.ChunkBytes, source.Length - offset))];
        await using var stream = source.OpenAt(offset);
        long chunkStart = offset;
        int chunkLength = 0;
        int failures = 0;
        long failedAt = -1;
        Exception? lastFailure = null;
        options.Progress?.Invoke(offset, source.Length);
        while (offset < source.Length)
        {
            if (offset == chunkStart + chunkLength)
            {
                chunkStart = offset;
                chunkLength = await FillAsync(stream, buffer, (int)Math.Min(buffer.Length, source.Length - offset), cancellationToken);
                if (chunkLength == 0) throw new TusUploadException($"{source.FileName} ended at byte {offset:N0}, before its {source.Length:N0} bytes", url);
            }
            try
            {
                if (lastFailure is not null)
                {
                    long at = await OffsetAsync(url, source.Length, mayBeGone: false, cancellationToken) ?? 0;
                    if (at < chunkStart || at > chunkStart + chunkLength)
                        throw new TusUploadException($"the server has {at:N0} bytes of {url}, outside the {chunkStart:N0} to {chunkStart + chunkLength:N0} this client can send again", url);
                    options.Resumed?.Invoke(new TusResume(url, at, failures, lastFailure.Message));
                    // Bytes that arrived before the failure count as progress: a slow link still gets there.
                    if (at > failedAt) failures = 0;
                    offset = at;
                    lastFailure = null;
                    continue;
                }
                offset = await PatchAsync(url, buffer, chunkStart, chunkLength, offset, source.Length, cancellationToken);
                failures = 0;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (++failures > options.RetryDelays.Count)
                    throw new TusUploadException($"uploading {source.FileName} stopped at byte {offset:N0} of {source.Length:N0} after {failures} failed attempts " +
                        $"({e.Message}); run the same upload again to resume it, or resume {url} with any tus client", url, e);
                lastFailure = e;
                failedAt = offset;
                await Task.Delay(options.RetryDelays[failures - 1], cancellationToken);
            }
        }
        options.Progress?.Invoke(offset, source.Length);
    }

    private async Task<Uri> CreateAsync(TusSource source, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Post, endpoint);
        request.Headers.Add("Upload-Length", source.Length.ToString(CultureInfo.InvariantCulture));
        var pairs = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["filename"] = source.FileName };
        request.Headers.Add("Upload-Metadata", string.Join(',', pairs.Select(p => $"{p.Key} {Convert.ToBase64String(Encoding.UTF8.GetBytes(p.Value))}")));
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created) throw await RefusalAsync(response, $"creating an upload at {endpoint}", null);
        return response.Headers.Location is { } location
            ? new Uri(endpoint, location)
            : throw new TusUploadException($"{endpoint} created an upload but named no Location for it");
    }

    /// <summary>HEAD: the server's offset; when the upload is gone (or another one), null if <paramref name="mayBeGone"/>, else an error naming it.</summary>
    private async Task<long?> OffsetAsync(Uri url, long length, bool mayBeGone, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Head, url);
        using var response = await SendAsync(request, cancellationToken);
        if (mayBeGone && response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.Forbidden) return null;
        if (response.StatusCode != HttpStatusCode.OK) throw await RefusalAsync(response, $"asking {url} for its offset", url);
        if (Header(response, "Upload-Length") is { } serverLength && serverLength != length)
        {
            if (mayBeGone) return null;
            throw new TusUploadException($"{url} is an upload of {serverLength:N0} bytes, not {length:N0}", url);
        }
        return Header(response, "Upload-Offset") ?? throw new TusUploadException($"{url} answered HEAD without an Upload-Offset", url);
    }

    private async Task<long> PatchAsync(Uri url, byte[] chunk, long chunkStart, int chunkLength, long offset, long length, CancellationToken cancellationToken)
    {
        int from = (int)(offset - chunkStart);
        using var request = Request(HttpMethod.Patch, url);
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Content = new ChunkContent(chunk, from, chunkLength - from, sent => options.Progress?.Invoke(offset + sent, length));
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(OffsetContentType);
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NoContent) throw await RefusalAsync(response, $"sending bytes {offset:N0} to {chunkStart + chunkLength:N0} to {url}", url);
        var now = Header(response, "Upload-Offset") ?? throw new TusUploadException($"{url} answered a PATCH without an Upload-Offset", url);
        if (now < offset || now > chunkStart + chunkLength)
            throw new TusUploadException($"{url} says it has {now:N0} bytes after a PATCH of bytes {offset:N0} to {chunkStart + chunkLength:N0}", url);
        if (now == offset) throw new TransientException($"{url} took none of the bytes from {offset:N0} on");
        return now;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    /// <summary>Runs <paramref name="attempt"/> until it succeeds or it failed once more than there are retry delays.</summary>
    private async Task<T> RetryAsync<T>(Uri url, Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (int failures = 0; ; failures++)
        {
            try
            {
                return await attempt(cancellationToken);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                if (failures >= options.RetryDelays.Count)
                    throw new TusUploadException($"{url} could not be reached after {failures + 1} attempts: {e.Message}", url, e);
                await Task.Delay(options.RetryDelays[failures], cancellationToken);
            }
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("Tus-Resumable", ProtocolVersion);
        return request;
    }

    private static async Task<int> FillAsync(Stream stream, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < count)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(filled, count - filled), cancellationToken);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    private static long? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Lost connections, timeouts and the answers that say "try again": a conflict over the offset, a busy or failing server.</summary>
    private static bool IsTransient(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or IOException or TransientException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested;

    private static async Task<Exception> RefusalAsync(HttpResponseMessage response, string doing, Uri? url)
    {
        var status = (int)response.StatusCode;
        var said = $"{status} {response.ReasonPhrase}";
        try
        {
            var text = await response.Content.ReadAsStringAsync();
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } d) said += $": {d}";
        }
        catch (JsonException)
        {
        }
        if (status is 409 or 423 or 429 or >= 500) return new TransientException($"{doing}: {said}");
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => " (run 'sqnxt login URL' with a valid token)",
            HttpStatusCode.NotFound or HttpStatusCode.Gone when url is not null => " (the upload expired or was deleted; start it again)",
            _ => "",
        };
        return new TusUploadException($"{doing}: {said}{hint}", url);
    }

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }

    /// <summary>A refusal worth retrying after asking the server where the upload stands.</summary>
    private sealed class TransientException(string message) : Exception(message);

    /// <summary>A chunk's bytes from the buffer, with the progress reported as they are written.</summary>
    private sealed class ChunkContent(byte[] buffer, int start, int count, Action<long> progress) : HttpContent
    {
        private const int Slice = 256 * 1024;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            for (int sent = 0; sent < count;)
            {
                int n = Math.Min(Slice, count - sent);
                await stream.WriteAsync(buffer.AsMemory(start + sent, n), cancellationToken);
                sent += n;
                progress(sent);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = count;
            return true;
        }
    }

    /// <summary>
    /// The unfinished uploads, by endpoint and source fingerprint, in one small JSON file (owner-only, as the
    /// credentials): read again before each change, so that two sqnxt processes lose little of each other's.
    /// </summary>
    private sealed class UploadMemory(string path, string key)
    {
        private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

        public RememberedUpload? Recall() => Load().GetValueOrDefault(key);

        public void Remember(Uri url, long length, string fileName) => Change(uploads => uploads[key] = new RememberedUpload(url, length, fileName, DateTimeOffset.UtcNow));

        public void Forget() => Change(uploads => uploads.Remove(key));

        private Dictionary<string, RememberedUpload> Load()
        {
            try
            {
                return File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, RememberedUpload>>(File.ReadAllText(path), Json) ?? [] : [];
            }
            catch (JsonException)
            {
                // A damaged file only costs the resumption of earlier uploads.
                return [];
            }
        }

        private void Change(Action<Dictionary<string, RememberedUpload>> change)
        {
            var uploads = Load();
            change(uploads);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = $"{path}.{Environment.ProcessId}.tmp";
            var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var file = new FileStream(temporary, create))
                JsonSerializer.Serialize(file, uploads, Json);
            File.Move(temporary, path, overwrite: true);
        }
    }

    private sealed record RememberedUpload(Uri Url, long Length, string FileName, DateTimeOffset StartedAt);
}

/// <summary>How a <see cref="TusClient"/> sends: chunk size, retries, where it remembers unfinished uploads, and whom it tells of progress.</summary>
public sealed class TusClientOptions
{
    public const long DefaultChunkBytes = 16L * 1024 * 1024;

    /// <summary>A chunk is held in memory while it is sent.</summary>
    public const long MaxChunkBytes = 1L << 30;

    public long ChunkBytes { get; init; } = DefaultChunkBytes;

    /// <summary>The waits before each retry of a failed request; one more failure in a row than there are delays gives up.</summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; init; } = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16)];

    /// <summary>The longest one request may take, a whole chunk's PATCH included.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Where unfinished uploads are remembered (null: nowhere); by default uploads.json beside sqnxt's credentials.</summary>
    public string? StateFile { get; init; } = DefaultStateFile;

    /// <summary>Bytes sent so far (the server's offset plus what the current PATCH wrote), and the total.</summary>
    public Action<long, long>? Progress { get; init; }

    /// <summary>Told each time the upload goes on from the server's offset: after a failure, or at the start of a resumed run.</summary>
    public Action<TusResume>? Resumed { get; init; }

    public static string DefaultStateFile => Path.Combine(Path.GetDirectoryName(Credentials.FilePath)!, "uploads.json");
}

/// <summary>An upload going on from the server's offset; <paramref name="Attempt"/> is 0 when an earlier run started it.</summary>
public sealed record TusResume(Uri UploadUrl, long Offset, int Attempt, string Reason);

/// <summary>What an upload sends: a name for the server, its length, a fingerprint when a later run may resume it, and its bytes from any offset.</summary>
public sealed record TusSource(string FileName, long Length, string? Fingerprint, Func<long, Stream> OpenAt)
{
    /// <summary>A file, fingerprinted by its full path, length and last-write time.</summary>
    public static TusSource FromFile(string path)
    {
        var file = new FileInfo(Path.GetFullPath(path));
        if (!file.Exists) throw new FileNotFoundException($"{file.FullName} does not exist", file.FullName);
        return new TusSource(file.Name, file.Length, $"file:{file.FullName}:{file.Length}:{file.LastWriteTimeUtc.Ticks}", offset =>
        {
            var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            stream.Position = offset;
            return stream;
        });
    }

    /// <summary>A folder packed as a tar archive named after it.</summary>
    public static TusSource FromFolder(FolderArchive archive) =>
        new($"{Path.GetFileName(archive.Folder)}.tar", archive.Length, $"folder:{archive.Folder}:{archive.Length}:{archive.Fingerprint}", archive.OpenRead);

    /// <summary>A stream of known length, read once from where it is and disposed at the end: it resumes after a failure within the run, not in a later one.</summary>
    public static TusSource FromStream(Stream stream, long length, string fileName) =>
        new(fileName, length, null, offset => offset == 0 ? stream : throw new ArgumentOutOfRangeException(nameof(offset), "a stream source starts at 0"));
}

/// <summary>An upload the server refused, or that failed too often in a row; <see cref="UploadUrl"/> names it where one was created.</summary>
public sealed class TusUploadException(string message, Uri? uploadUrl = null, Exception? innerException = null) : Exception(message, innerException)
{
    public Uri? UploadUrl { get; } = uploadUrl;
}
