using SqueezeNext.ServiceDefaults.Datasets;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Dataset imports as runs on a real worker: versions, their digests, and runs that keep reading the version they recorded.</summary>
[Trait("Level", "processes")]
public sealed class DatasetImportTests : PhotoJobSystemTests
{
    private string Incoming => Directory.CreateDirectory(Path.Combine(system.DataRoot, DataVolume.Incoming)).FullName;

    private async Task<DatasetVersion> ImportAsync(string dataset, string file, double fraction = 0.25, DatasetVersionStatus expect = DatasetVersionStatus.Ready)
    {
        var command = new ImportDataset(NewId.NextGuid(), dataset, "file", file, ValidationFraction: fraction, Seed: 3, RequestedBy: "tester");
        var response = await system.Client<ImportDataset>().GetResponse<DatasetImportQueued, CommandRejected>(command);
        Assert.True(response.Is(out Response<DatasetImportQueued>? queued), "the import was rejected");
        Assert.Equal(dataset, queued!.Message.Dataset);
        return await system.WaitForAsync(db => db.DatasetVersions.FirstOrDefaultAsync(v => v.ImportRunId == command.RunId && v.Status == expect),
            TimeSpan.FromMinutes(2), $"import of {file} to be {expect}");
    }

    [SkippableFact]
    public async Task A_run_reads_the_version_it_recorded_even_when_resumed_after_a_newer_version()
    {
        Skip.IfNot(TestDatasets.FashionMnistInstalled, "dataset-fashion-mnist is not installed");
        TestDatasets.FashionZip(Path.Combine(Incoming, "clothes-1.zip"), perClass: 12, classes: [0, 1, 2]);
        TestDatasets.FashionZip(Path.Combine(Incoming, "clothes-2.zip"), perClass: 20, classes: [0, 1, 2, 3]);
        await system.StartWorkerAsync();

        var first = await ImportAsync("clothes", "clothes-1.zip");
        Assert.Equal(1, first.Version);
        Assert.Equal(("split-folders", 3, 27, 9), (first.Layout, first.Classes, first.TrainImages, first.ValidationImages));
        Assert.Matches("^[0-9a-f]{64}$", first.Digest!);
        Assert.Equal("tester", first.CreatedBy);
        Assert.Equal(("file", "incoming/clothes-1.zip"), (first.Source, first.SourceName));
        var folder = Path.Combine(system.DataRoot, first.Path!);
        Assert.True(File.Exists(Path.Combine(folder, "manifest.tsv")));
        Assert.Equal(3, Directory.GetDirectories(Path.Combine(folder, ".thumbnails")).Length);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(system.DataRoot, DataVolume.Staging)));

        var training = new SubmitTraining(NewId.NextGuid(), "1.0-SqNxt-23-28px", "clothes", Settings: new TrainingSettings { MaxSteps = 40, BatchSize = 8, CheckpointEverySteps = 4, EvalEverySteps = 1000 });
        Assert.True((await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(training)).Is(out Response<RunQueued>? _));
        await system.WaitForAsync(db => db.Checkpoints.FirstOrDefaultAsync(c => c.RunId == training.RunId && c.Step >= 8), TimeSpan.FromMinutes(2), "two checkpoints");
        await system.Bus.Publish(new CancelRun(NewId.NextGuid(), training.RunId, "a newer version comes"));
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == training.RunId && r.Status == RunStatus.Cancelled), TimeSpan.FromMinutes(1), "the cancel");

        var second = await ImportAsync("clothes", "clothes-2.zip");
        Assert.Equal((2, 4, 60, 20), (second.Version, second.Classes, second.TrainImages, second.ValidationImages));
        Assert.NotEqual(first.Digest, second.Digest);

        await system.Bus.Publish(new ResumeRun(NewId.NextGuid(), training.RunId));
        var run = await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == training.RunId && r.Status == RunStatus.Completed), TimeSpan.FromMinutes(3), "the resumed run");
        Assert.Equal((first.Id, first.Digest), (run.DatasetVersionId, run.DatasetDigest));
        Assert.Equal("1.0-SqNxt-23-28px on clothes v1", run.Name);
        await using (var db = system.Db())
        {
            var resumed = await db.RunEvents.Where(e => e.RunId == training.RunId && e.Kind == RunEventKind.Resumed).Select(e => e.Message).SingleAsync();
            Assert.Contains($"'{Path.Combine(folder, "train")}', 27 images", resumed);
        }

        // A new run takes the newest version, or the one it names.
        var newest = new SubmitTraining(NewId.NextGuid(), "1.0-SqNxt-23-28px", "clothes", Settings: new TrainingSettings { MaxSteps = 1, BatchSize = 8 });
        var named = newest with { RunId = NewId.NextGuid(), Dataset = "clothes@1" };
        var missing = newest with { RunId = NewId.NextGuid(), Dataset = "clothes@7" };
        await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(newest);
        await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(named);
        var refused = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(missing);
        Assert.True(refused.Is(out Response<CommandRejected>? rejection));
        Assert.Contains("dataset 'clothes' has no version 7", rejection!.Message.Reason);
        await using (var db = system.Db())
        {
            Assert.Equal(second.Id, (await db.Runs.SingleAsync(r => r.Id == newest.RunId)).DatasetVersionId);
            Assert.Equal(first.Id, (await db.Runs.SingleAsync(r => r.Id == named.RunId)).DatasetVersionId);
            Assert.Equal(DatasetKinds.Versioned, (await db.Datasets.SingleAsync(d => d.Name == "clothes")).Kind);
        }
    }

    [Fact]
    public async Task Imports_that_name_what_they_may_not_are_refused_before_they_queue()
    {
        await system.StartWorkerAsync(new Dictionary<string, string> { ["Worker__RunJobs"] = "false" });
        File.WriteAllText(Path.Combine(Incoming, "a.zip"), "x");
        File.CreateSymbolicLink(Path.Combine(Incoming, "passwd.zip"), "/etc/passwd");
        var cases = new (ImportDataset Command, string Reason)[]
        {
            (new(NewId.NextGuid(), "photos", "file", "a.zip"), "'photos' is a folder dataset under the data root"),
            (new(NewId.NextGuid(), "../etc", "file", "a.zip"), "dataset: dataset name '../etc' is not a folder name"),
            (new(NewId.NextGuid(), "fine\n", "file", "a.zip"), "is not a folder name"),
            (new(NewId.NextGuid(), "incoming", "file", "a.zip"), "reserved"),
            (new(NewId.NextGuid(), "fine", "file", "../../etc/passwd"), "is not a path inside incoming/"),
            (new(NewId.NextGuid(), "fine", "file", "/etc/passwd"), "is not a path inside incoming/"),
            (new(NewId.NextGuid(), "fine", "file", "passwd.zip"), "is a link"),
            (new(NewId.NextGuid(), "fine", "file", "missing.zip"), "there is no 'incoming/missing.zip'"),
            (new(NewId.NextGuid(), "fine", "upload", "../x"), "an upload id is 32 hexadecimal digits"),
            (new(NewId.NextGuid(), "fine", "upload", new string('a', 32)), "there is no upload"),
            (new(NewId.NextGuid(), "fine", "ftp", "a.zip"), "source: 'ftp' is not one of"),
            (new(NewId.NextGuid(), "fine", "file", "a.zip", ValidationFraction: 0.95), "validationFraction"),
        };
        foreach (var (command, reason) in cases)
        {
            var response = await system.Client<ImportDataset>().GetResponse<DatasetImportQueued, CommandRejected>(command);
            Assert.True(response.Is(out Response<CommandRejected>? rejected), $"{command} was accepted");
            Assert.Contains(reason, rejected!.Message.Reason);
        }
        await using var db = system.Db();
        Assert.Equal(0, await db.DatasetVersions.CountAsync());
        Assert.Equal(0, await db.Runs.CountAsync());
    }

    [Fact]
    public async Task Every_hostile_archive_gets_its_answer_while_the_worker_keeps_classifying()
    {
        foreach (var hostile in HostileArchives.Cases) File.Copy(Path.Combine(HostileArchives.Folder, hostile.File), Path.Combine(Incoming, hostile.File));
        await system.StartWorkerAsync();
        await ServingModels.ServeRandomImageNetModelAsync(system, "imagenet", seed: 5);
        var imports = HostileArchives.Cases.ToDictionary(c => c.Case, c => new ImportDataset(NewId.NextGuid(), c.Case, "file", c.File, ValidationFraction: 0));
        foreach (var command in imports.Values) await system.Bus.Publish(command);

        // Classification goes on beside the imports: every request is answered while they run.
        var image = File.ReadAllBytes(TestServices.Fixture("rocket.jpg"));
        int answered = 0;
        async Task<bool> AllImportsEndedAsync()
        {
            await using var db = system.Db();
            return await db.DatasetVersions.CountAsync(v => v.Status != DatasetVersionStatus.Importing) == imports.Count
                && await db.DatasetVersions.CountAsync() == imports.Count;
        }
        while (!await AllImportsEndedAsync())
        {
            var response = await system.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(
                new ClassifyImage(NewId.NextGuid(), image), timeout: RequestTimeout.After(s: 30));
            Assert.True(response.Is(out Response<ImageClassified>? _), "a classify request was rejected during the imports");
            answered++;
        }
        Assert.True(answered > 0);

        await using var context = system.Db();
        foreach (var hostile in HostileArchives.Cases)
        {
            var version = await context.DatasetVersions.SingleAsync(v => v.DatasetName == hostile.Case);
            if (hostile.Expect == "refused")
            {
                Assert.True(version.Status == DatasetVersionStatus.Failed, $"{hostile.Case} was to be refused ({hostile.Reason}) but is {version.Status}");
                string[] keywords = hostile.Reason == "ratio" ? ["[ratio]", "[too-large]"] : [$"[{hostile.Reason}]"];
                Assert.True(keywords.Any(k => version.Error!.Contains(k, StringComparison.Ordinal)), $"{hostile.Case}: {version.Error}");
            }
            else
            {
                Assert.True(version.Status == DatasetVersionStatus.Ready, $"{hostile.Case} was to be imported but is {version.Status}: {version.Error}");
                Assert.Equal(hostile.Classes!.Count, version.Classes);
            }
        }
        // Staging is empty again, and the data root holds only what the volume's layout names.
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(system.DataRoot, DataVolume.Staging)));
        Assert.Equal([".datasets", ".staging", "incoming", "photos"], Directory.GetFileSystemEntries(system.DataRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(File.Exists("/tmp/sqnxt-absolute.jpg"));
        Assert.False(Directory.Exists(Path.Combine(system.Root, "evil.jpg")) || File.Exists(Path.Combine(system.Root, "evil.jpg")));
    }
}
