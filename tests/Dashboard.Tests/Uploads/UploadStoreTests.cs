using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SqueezeNext.Dashboard.Uploads;

namespace SqueezeNext.Dashboard.Tests.Uploads;

/// <summary>
/// The upload files' one owner, in process on a folder of the test's: expiry and the sweep (which never follows a
/// link nor deletes what it did not make), a body cut off mid-way, and two PATCHes at once.
/// </summary>
[Trait("Level", "unit")]
public sealed class UploadStoreTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-uploads-").FullName;
    private readonly string outside = Directory.CreateTempSubdirectory("sqnxt-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(root, recursive: true);
        Directory.Delete(outside, recursive: true);
    }

    private UploadStore Store(TimeSpan? later = null, string? dataRoot = null, long maxStoredBytes = 1L << 40) =>
        new(Options.Create(new DatasetUploadOptions { DataRoot = dataRoot ?? root, IncompleteUploadExpiry = TimeSpan.FromHours(24), MaxStoredUploadBytes = maxStoredBytes }),
            new ShiftedClock(later ?? TimeSpan.Zero), NullLogger<UploadStore>.Instance);

    [Fact]
    public async Task A_finished_upload_nobody_imported_goes_after_a_week_and_the_volume_takes_no_more_than_its_cap()
    {
        var store = Store(maxStoredBytes: 100);
        var finished = store.Create(60, Named("a.tar"), "ann")!;
        Assert.Equal(AppendOutcome.Appended, (await store.AppendAsync(finished.Id, "ann", 0, 60, new MemoryStream(new byte[60]), default)).Outcome);
        // 60 stored and 60 more asked for: over the cap of 100, refused until the first goes.
        Assert.Null(store.Create(60, Named("b.tar"), "bob"));
        Assert.NotNull(store.Create(40, Named("c.tar"), "bob"));

        // A day on, the unfinished upload goes; the finished one stays for a week.
        Assert.Equal(1, await Store(TimeSpan.FromDays(6), maxStoredBytes: 100).DeleteExpiredAsync(default));
        Assert.NotNull(store.CompletedPath(finished.Id, "ann"));
        Assert.Equal(1, await Store(TimeSpan.FromDays(8), maxStoredBytes: 100).DeleteExpiredAsync(default));
        Assert.Null(store.Find(finished.Id, "ann"));
        Assert.NotNull(store.Create(60, Named("b.tar"), "bob"));
    }

    private static Dictionary<string, string> Named(string name) => new() { [UploadInfo.FileNameKey] = name };

    [Fact]
    public async Task An_unfinished_upload_past_its_expiry_is_gone_and_swept_and_a_finished_one_stays()
    {
        var store = Store();
        var unfinished = store.Create(10, Named("a.tar"), "ann")!;
        var finished = store.Create(10, Named("b.tar"), "ann")!;
        Assert.Equal(AppendOutcome.Appended, (await store.AppendAsync(unfinished.Id, "ann", 0, 4, new MemoryStream(new byte[4]), default)).Outcome);
        Assert.Equal(AppendOutcome.Appended, (await store.AppendAsync(finished.Id, "ann", 0, 10, new MemoryStream(new byte[10]), default)).Outcome);

        Assert.Equal(0, await Store(TimeSpan.FromHours(23)).DeleteExpiredAsync(default));
        var dayLater = Store(TimeSpan.FromHours(25));
        Assert.True(dayLater.Find(unfinished.Id, "ann")!.IsExpiredAt(DateTimeOffset.UtcNow + TimeSpan.FromHours(25)));
        Assert.Equal(AppendOutcome.Gone, (await dayLater.AppendAsync(unfinished.Id, "ann", 4, 6, new MemoryStream(new byte[6]), default)).Outcome);
        Assert.Equal(1, await dayLater.DeleteExpiredAsync(default));

        Assert.Null(store.Find(unfinished.Id, "ann"));
        Assert.Null(store.CompletedPath(unfinished.Id, "ann"));
        var path = store.CompletedPath(finished.Id, "ann");
        Assert.Equal(Path.Combine(root, ".uploads", finished.Id + ".part"), path);
        Assert.Equal(10, new FileInfo(path!).Length);
        Assert.Equal("b.tar", store.Find(finished.Id, "ann")!.FileName);
        Assert.Null(store.Find(finished.Id, "bob"));
        Assert.Null(store.CompletedPath(finished.Id, "bob"));
        Assert.True(store.Delete(finished.Id));
        Assert.Empty(Directory.GetFileSystemEntries(store.Folder));
    }

    [Fact]
    public async Task The_sweep_never_follows_or_deletes_a_link_and_leaves_names_it_does_not_make()
    {
        var store = Store();
        var upload = store.Create(10, Named("a.tar"), "ann")!;
        var precious = Path.Combine(outside, "precious.txt");
        File.WriteAllText(precious, "keep me");
        var part = Path.Combine(store.Folder, upload.Id + ".part");
        File.Delete(part);
        File.CreateSymbolicLink(part, precious);
        var stranger = Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(Path.Combine(store.Folder, stranger + ".part"));
        File.WriteAllText(Path.Combine(store.Folder, "notes.txt"), "not an upload");
        File.CreateSymbolicLink(Path.Combine(store.Folder, Guid.NewGuid().ToString("N") + ".json"), outside);

        Assert.Null(store.Find(upload.Id, "ann"));
        Assert.Equal(AppendOutcome.NotFound, (await store.AppendAsync(upload.Id, "ann", 0, 3, new MemoryStream([1, 2, 3]), default)).Outcome);
        Assert.Equal(0, await Store(TimeSpan.FromDays(30)).DeleteExpiredAsync(default));

        Assert.Equal("keep me", File.ReadAllText(precious));
        Assert.True(File.Exists(Path.Combine(store.Folder, "notes.txt")));
        Assert.True(Directory.Exists(Path.Combine(store.Folder, stranger + ".part")));
        Assert.NotNull(new FileInfo(part).LinkTarget);
    }

    [Fact]
    public async Task An_uploads_folder_that_is_a_link_is_neither_used_nor_swept()
    {
        var dataRoot = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        File.WriteAllText(Path.Combine(outside, Guid.NewGuid().ToString("N") + ".part"), "keep me");
        Directory.CreateSymbolicLink(Path.Combine(dataRoot, UploadStore.FolderName), outside);
        var store = Store(TimeSpan.FromDays(30), dataRoot);

        Assert.Throws<UploadStoreUnavailableException>(() => store.Create(10, Named("a.tar"), "ann"));
        Assert.Equal(0, await store.DeleteExpiredAsync(default));
        Assert.Single(Directory.GetFiles(outside));
    }

    [Fact]
    public void Without_its_data_root_the_store_refuses_to_create_uploads()
    {
        var store = Store(dataRoot: Path.Combine(root, "missing"));

        var error = Assert.Throws<UploadStoreUnavailableException>(() => store.Create(10, Named("a.tar"), "ann"));

        Assert.Contains("Datasets:DataRoot", error.Message);
        Assert.False(Directory.Exists(Path.Combine(root, "missing")));
    }

    [Fact]
    public async Task A_body_cut_off_mid_way_keeps_what_arrived()
    {
        var store = Store();
        var upload = store.Create(2000, Named("a.tar"), "ann")!;
        var bytes = Enumerable.Range(0, 700).Select(i => (byte)i).ToArray();

        var result = await store.AppendAsync(upload.Id, "ann", 0, 2000, new CutStream(bytes), default);

        Assert.Equal(new AppendResult(AppendOutcome.Appended, 700, result.ExpiresAt), result);
        Assert.NotNull(result.ExpiresAt);
        Assert.Equal(700, store.Find(upload.Id, "ann")!.Offset);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(store.Folder, upload.Id + ".part")));
    }

    [Fact]
    public async Task A_second_PATCH_while_one_is_writing_is_refused_and_the_bytes_are_the_firsts()
    {
        var store = Store();
        var upload = store.Create(2000, Named("a.tar"), "ann")!;
        var first = new GatedStream(Enumerable.Repeat((byte)1, 1000).ToArray());

        var writing = store.AppendAsync(upload.Id, "ann", 0, 1000, first, default);
        await first.Started.Task;
        var second = await store.AppendAsync(upload.Id, "ann", 0, 1000, new MemoryStream(Enumerable.Repeat((byte)2, 1000).ToArray()), default);
        first.Finish.SetResult();

        Assert.Equal(AppendOutcome.Busy, second.Outcome);
        Assert.Equal(new AppendResult(AppendOutcome.Appended, 1000, (await writing).ExpiresAt), await writing);
        Assert.Equal(AppendOutcome.OffsetMismatch, (await store.AppendAsync(upload.Id, "ann", 0, 1000, new MemoryStream(new byte[1000]), default)).Outcome);
        Assert.Equal(Enumerable.Repeat((byte)1, 1000), File.ReadAllBytes(Path.Combine(store.Folder, upload.Id + ".part")));
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }

    /// <summary>A request body whose connection drops after <paramref name="bytes"/>.</summary>
    private sealed class CutStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position < Length ? base.ReadAsync(buffer, cancellationToken) : throw new IOException("Unexpected end of request content.");
    }

    /// <summary>A request body that sends its bytes, then holds the request open until <see cref="Finish"/>.</summary>
    private sealed class GatedStream(byte[] bytes) : MemoryStream(bytes)
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Finish { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position < Length) return await base.ReadAsync(buffer, cancellationToken);
            Started.TrySetResult();
            await Finish.Task;
            return 0;
        }
    }
}
