using SqueezeNext.Persistence;
using SqueezeNext.Persistence.Datasets;
using SqueezeNext.Persistence.Runs;
using SqueezeNext.WorkerHost.Consumers;

namespace SqueezeNext.WorkerHost.Tests.Lifecycle;

/// <summary>The dataset catalog in process on the real PostgreSQL: folders from several data roots, version numbers under concurrency, and what a name resolves to.</summary>
[Trait("Level", "in-process")]
public sealed class DatasetCatalogTests : IAsyncLifetime
{
    private JobSystem system = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        await using var db = system.Db();
        await db.Database.MigrateAsync();
    }

    public async Task DisposeAsync() => await system.DisposeAsync();

    private static Dataset Folder(string name, int classes) => new() { Name = name, Layout = "class-folders", Classes = classes, TrainImages = 10 * classes };

    [Fact]
    public async Task Workers_with_different_data_roots_add_to_the_list_instead_of_replacing_it()
    {
        await using (var db = system.Db())
        {
            await new DatasetCatalog(db).ReportFoldersAsync([Folder("photos", 2), Folder("shared", 3)], default);
            await new DatasetCatalog(db).ReportFoldersAsync([Folder("scans", 4), Folder("shared", 5)], default);
        }
        await using (var db = system.Db())
        {
            var rows = await db.Datasets.OrderBy(d => d.Name).ToListAsync();
            Assert.Equal(["photos", "scans", "shared"], rows.Select(r => r.Name));
            Assert.All(rows, r => Assert.Equal(DatasetKinds.Folder, r.Kind));
            Assert.Equal(5, rows.Single(r => r.Name == "shared").Classes);

            // A folder nobody reports any more fades from the list; a versioned dataset of the same name is never replaced.
            await db.Database.ExecuteSqlRawAsync("UPDATE datasets SET seen_at = now() - interval '1 hour' WHERE name = 'photos'");
            db.Datasets.Add(new Dataset { Name = "mine", Kind = DatasetKinds.Versioned, CreatedAt = DateTimeOffset.UtcNow, SeenAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
            await new DatasetCatalog(db).ReportFoldersAsync([Folder("mine", 9)], default);
        }
        await using (var db = system.Db())
        {
            Assert.Equal(["mine", "scans", "shared"], await db.Datasets.OrderBy(d => d.Name).Select(d => d.Name).ToListAsync());
            var mine = await db.Datasets.SingleAsync(d => d.Name == "mine");
            Assert.Equal((DatasetKinds.Versioned, 0), (mine.Kind, mine.Classes));
        }
    }

    [Fact]
    public async Task Imports_under_one_name_at_once_take_distinct_numbers_and_a_name_resolves_to_its_newest_ready_version()
    {
        async Task<int?> QueueAsync()
        {
            await using var db = system.Db();
            var runId = Guid.NewGuid();
            var version = new DatasetVersion { DatasetName = "pets", Source = "file", SourceName = "incoming/pets.zip" };
            return (await new RunLifecycle(db).QueueImportAsync(runId, "{}", version, CommandRecorder.Accepted(runId, new { }), default)).Version;
        }
        var numbers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => QueueAsync()));
        Assert.Equal(Enumerable.Range(1, 8).Cast<int?>(), numbers.Order());

        await using var context = system.Db();
        var catalog = new DatasetCatalog(context);
        Assert.Contains("no ready version yet", (await catalog.ResolveAsync("pets", default)).Problem);
        await context.DatasetVersions.Where(v => v.Version == 2 || v.Version == 5).ExecuteUpdateAsync(u => u.SetProperty(v => v.Status, DatasetVersionStatus.Ready));
        Assert.Equal(5, (await catalog.ResolveAsync("pets", default)).Dataset!.Version!.Version);
        Assert.Equal(2, (await catalog.ResolveAsync("pets@2", default)).Dataset!.Version!.Version);
        Assert.Contains("version 3 of dataset 'pets' is importing", (await catalog.ResolveAsync("pets@3", default)).Problem);
        Assert.Contains("has no version 9", (await catalog.ResolveAsync("pets@9", default)).Problem);
        Assert.True((await catalog.ResolveAsync("somefolder", default)).Dataset!.IsFolder);
    }

    [Fact]
    public async Task An_import_whose_worker_dies_three_times_fails_with_its_version_instead_of_going_round_again()
    {
        var runId = Guid.NewGuid();
        await using (var db = system.Db())
        {
            var version = new DatasetVersion { DatasetName = "bombs", Source = "file", SourceName = "incoming/bomb.zip" };
            await new RunLifecycle(db).QueueImportAsync(runId, "{}", version, CommandRecorder.Accepted(runId, new { }), default);
        }
        for (int attempt = 1; attempt <= RunLifecycle.MaxImportAttempts; attempt++)
        {
            await using var db = system.Db();
            var lifecycle = new RunLifecycle(db);
            var claimed = await lifecycle.ClaimNextAsync("worker", [RunKind.Import], default);
            Assert.Equal(attempt, claimed!.Lease.Attempt);
            await db.Database.ExecuteSqlRawAsync("UPDATE runs SET heartbeat_at = now() - interval '1 hour'");
            var requeued = await lifecycle.RequeueStaleAsync(TimeSpan.FromMinutes(1), default);
            Guid[] expected = attempt < RunLifecycle.MaxImportAttempts ? [runId] : [];
            Assert.Equal(expected, requeued);
        }
        await using var context = system.Db();
        var failed = await context.Runs.SingleAsync(r => r.Id == runId);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("stopped 3 times", failed.Error);
        var versionRow = await context.DatasetVersions.SingleAsync(v => v.ImportRunId == runId);
        Assert.Equal(DatasetVersionStatus.Failed, versionRow.Status);
        Assert.Null(await new RunLifecycle(context).ClaimNextAsync("worker", [RunKind.Import], default));
    }
}
