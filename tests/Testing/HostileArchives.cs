using System.Diagnostics;
using System.Text.Json;

namespace SqueezeNext.Testing;

/// <summary>One case of the hostile-archive corpus (scripts/hostile-archives.py writes them with cases.json).</summary>
public sealed record HostileArchiveCase(string File, string Case, string Expect, string Reason, string Description,
    IReadOnlyList<string>? Skipped, IReadOnlyList<string>? Classes, IReadOnlyList<string>? EmptyClasses);

/// <summary>The hostile-archive corpus, built by the repository's script into a folder, once per process.</summary>
public static class HostileArchives
{
    private static readonly Lazy<(string Folder, IReadOnlyList<HostileArchiveCase> Cases)> Corpus = new(Build);

    public static string Folder => Corpus.Value.Folder;

    public static IReadOnlyList<HostileArchiveCase> Cases => Corpus.Value.Cases;

    private static (string, IReadOnlyList<HostileArchiveCase>) Build()
    {
        var folder = Directory.CreateTempSubdirectory("sqnxt-hostile-archives-").FullName;
        var root = RepositoryRoot();
        var script = Path.Combine(root, "scripts", "hostile-archives.py");
        // The photos the script mixes in are the engine's test fixtures (copies of shared/data/images).
        var images = Path.Combine(root, "tests", "Vision.Tests", "Fixtures");
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, folder, "--images", images }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(180_000) || process.ExitCode != 0)
            throw new InvalidOperationException($"scripts/hostile-archives.py failed: {errors}{output.Result}");
        var cases = JsonSerializer.Deserialize<List<HostileArchiveCase>>(File.ReadAllText(Path.Combine(folder, "cases.json")), JsonSerializerOptions.Web)!;
        return (folder, cases);
    }

    /// <summary>The repository root above the test's output (this file is also compiled into Vision.Tests, which has no TestServices).</summary>
    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SqueezeNext.Jobs.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
    }
}
