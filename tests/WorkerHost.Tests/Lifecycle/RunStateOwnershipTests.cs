using System.Text.RegularExpressions;

namespace SqueezeNext.WorkerHost.Tests.Lifecycle;

/// <summary>
/// Run state has one writer: the run tables (runs, run_events, checkpoints, metric_points) are written only by
/// Persistence/Runs (RunLifecycle). The compiler keeps Run's setters there; this reads every other source file of the
/// product for a write that goes around it, through the change tracker, a bulk update or SQL.
/// </summary>
[Trait("Level", "unit")]
public sealed partial class RunStateOwnershipTests
{
    private static readonly string[] ProductFolders = ["Contracts", "Vision", "Persistence", "ServiceDefaults", "WorkerHost", "Dashboard", "Cli"];

    // The DbSets of the run tables, written through the change tracker or a bulk update or delete.
    [GeneratedRegex(@"\b(Runs|RunEvents|Checkpoints|MetricPoints)\s*\.\s*(Add|AddRange|Attach|Update|UpdateRange|Remove|RemoveRange)\s*\(|\b(Runs|RunEvents|Checkpoints|MetricPoints)\b[^;]*\.\s*Execute(Update|Delete)(Async)?\s*\(")]
    private static partial Regex TrackedWrite();

    // SQL that writes one of the run tables.
    [GeneratedRegex(@"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(runs|run_events|checkpoints|metric_points)\b", RegexOptions.IgnoreCase)]
    private static partial Regex SqlWrite();

    /// <summary>Every write of a run table in <paramref name="source"/>: the line and what matched.</summary>
    private static IEnumerable<string> WritesIn(string source) =>
        source.Split('\n').Select((line, index) => (Line: line, Number: index + 1))
            .Where(l => !l.Line.TrimStart().StartsWith("//", StringComparison.Ordinal))
            .SelectMany(l => TrackedWrite().Matches(l.Line).Concat(SqlWrite().Matches(l.Line)).Select(m => $"line {l.Number}: {m.Value.Trim()}"));

    [Fact]
    public void The_run_tables_are_written_only_by_the_run_lifecycle()
    {
        var owner = Path.Combine("Persistence", "Runs") + Path.DirectorySeparatorChar;
        var migrations = Path.Combine("Persistence", "Migrations") + Path.DirectorySeparatorChar;
        var sources = ProductFolders
            .SelectMany(folder => Directory.EnumerateFiles(Path.Combine(TestServices.RepositoryRoot, folder), "*.cs", SearchOption.AllDirectories))
            .Select(path => Path.GetRelativePath(TestServices.RepositoryRoot, path))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToList();
        Assert.Contains(sources, path => path.StartsWith(owner, StringComparison.Ordinal));

        var outside = sources.Where(path => !path.StartsWith(owner, StringComparison.Ordinal) && !path.StartsWith(migrations, StringComparison.Ordinal))
            .SelectMany(path => WritesIn(File.ReadAllText(Path.Combine(TestServices.RepositoryRoot, path))).Select(write => $"{path} {write}"))
            .ToList();
        var inOwner = sources.Where(path => path.StartsWith(owner, StringComparison.Ordinal))
            .SelectMany(path => WritesIn(File.ReadAllText(Path.Combine(TestServices.RepositoryRoot, path))))
            .ToList();

        Assert.True(outside.Count == 0, "run tables written outside Persistence/Runs:\n" + string.Join("\n", outside));
        // The search finds the owner's own writes, so a miss above is not a search that finds nothing.
        Assert.Contains(inOwner, write => write.EndsWith(": Runs.Add(", StringComparison.Ordinal));
        Assert.Contains(inOwner, write => write.Contains("UPDATE runs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("        db.Runs.Add(run);")]
    [InlineData("        await db.RunEvents.Where(e => e.RunId == id).ExecuteDeleteAsync(ct);")]
    [InlineData("        await db.Database.ExecuteSqlRawAsync(\"UPDATE runs SET status = 'Failed'\");")]
    [InlineData("            INSERT INTO metric_points (run_id, step) VALUES (@run, 1)")]
    public void A_write_that_goes_around_the_lifecycle_is_found(string line)
    {
        Assert.NotEmpty(WritesIn(line));
    }

    [Theory]
    [InlineData("        var run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == id);")]
    [InlineData("        // UPDATE runs is RunLifecycle's alone")]
    [InlineData("        await db.ModelVersions.Where(v => v.Name == name).ExecuteUpdateAsync(u => u.SetProperty(v => v.IsServing, false));")]
    public void A_read_or_another_table_is_not_a_run_write(string line)
    {
        Assert.Empty(WritesIn(line));
    }
}
