using SqueezeNext.Testing;
using SqueezeNext.Vision.Data.Import;

namespace SqueezeNext.Vision.Tests.Data.Import;

/// <summary>Every case of scripts/hostile-archives.py against the importer: the documented refusal or report, and nothing written outside staging.</summary>
[Trait("Level", "unit")]
public sealed class HostileArchiveTests : IDisposable
{
    private static readonly string[] RequiredCases =
    [
        "zip-slip", "absolute-path-tar", "symlink-tar", "hardlink-tar", "bomb-zip", "many-entries-zip", "truncated-tar", "not-utf8-zip",
        "newline-zip", "non-image", "corrupt-image", "empty-class",
    ];

    private readonly string sandbox = Directory.CreateTempSubdirectory("sqnxt-hostile-import-").FullName;

    public void Dispose() => Directory.Delete(sandbox, recursive: true);

    [Fact]
    public void The_corpus_has_the_twelve_required_cases()
    {
        Assert.Empty(RequiredCases.Except(HostileArchives.Cases.Select(c => c.Case)));
    }

    public static TheoryData<string> CaseNames() => new(HostileArchives.Cases.Select(c => c.Case));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_case_gets_its_refusal_or_report_and_nothing_is_written_outside_staging(string name)
    {
        var hostile = HostileArchives.Cases.Single(c => c.Case == name);
        var work = Directory.CreateDirectory(Path.Combine(sandbox, "work", "deep")).FullName;
        var staging = Path.Combine(work, "staging");
        var importer = new DatasetImporter(new ImportOptions { ValidationFraction = 0 });
        var archive = Path.Combine(HostileArchives.Folder, hostile.File);

        if (hostile.Expect == "refused")
        {
            var refusal = Assert.Throws<ImportRefusedException>(() => importer.ImportArchive(archive, staging, CancellationToken.None));
            // A bomb may be stopped by its ratio or by the size of what it expands to, whichever limit it meets first.
            string[] accepted = hostile.Reason == "ratio" ? ["ratio", "too-large"] : [hostile.Reason];
            Assert.Contains(refusal.Keyword, accepted);
        }
        else
        {
            var dataset = importer.ImportArchive(archive, staging, CancellationToken.None);
            Assert.Equal(hostile.Classes!.Order(StringComparer.Ordinal), dataset.Classes.Select(c => c.Name));
            var skipped = dataset.Report.Skipped.Where(s => s.Reason != SkipReasons.SystemFile).ToList();
            Assert.Equal(hostile.Skipped!.Order(StringComparer.Ordinal), skipped.Select(s => s.Path).Order(StringComparer.Ordinal));
            if (hostile.Reason.Length > 0)
                Assert.All(skipped.Where(s => hostile.Reason != "empty-class"), s => Assert.Equal(hostile.Reason, s.Reason));
            Assert.Equal((hostile.EmptyClasses ?? []).Order(StringComparer.Ordinal), dataset.Report.EmptyClasses);
        }

        // Nothing outside the staging folder: not beside it, not above it, not where the absolute names point.
        var outside = Directory.EnumerateFileSystemEntries(sandbox, "*", SearchOption.AllDirectories)
            .Where(p => !p.StartsWith(staging, StringComparison.Ordinal) && p != Path.Combine(sandbox, "work") && p != work).ToList();
        Assert.Empty(outside);
        Assert.False(File.Exists("/tmp/sqnxt-absolute.jpg"));
        Assert.False(File.Exists("/etc/cron.d/x.jpg"));
    }
}
