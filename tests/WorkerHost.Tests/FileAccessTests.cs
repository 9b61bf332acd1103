using System.Text.RegularExpressions;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>
/// The worker's file system footprint, recorded by strace while it trains, evaluates, registers and serves a model
/// and refuses datasets named as paths: it writes only under its artifact root and the shared message data store, and
/// reads only those and its data root besides its own program files and the system's.
/// </summary>
[Trait("Level", "processes")]
public sealed partial class FileAccessTests : PhotoJobSystemTests
{
    [SkippableFact]
    public async Task The_worker_reads_and_writes_only_under_its_roots_besides_its_program_and_the_system()
    {
        Skip.IfNot(File.Exists("/usr/bin/strace"), "strace is not installed (scripts/test.sh installs it)");
        var trace = Path.Combine(system.Root, "worker-files.trace");
        var worker = await system.StartWorkerAsync(launcher:
            ["/usr/bin/strace", "-f", "-qq", "-e", "status=successful", "-e", $"trace={string.Join(',', FileCalls)}", "-o", trace]);

        var training = PhotoRuns.Submit(steps: 6, checkpointEvery: 3);
        await system.Bus.Publish(training);
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == training.RunId && r.Status == RunStatus.Completed), TimeSpan.FromMinutes(3), "the training run");
        var register = new RegisterModel(NewId.NextGuid(), "photos-model", training.RunId);
        await system.Bus.Publish(register);
        await system.WaitForAsync(db => db.ModelVersions.FirstOrDefaultAsync(v => v.CommandId == register.CommandId), TimeSpan.FromSeconds(30), "the registration");
        var evaluation = new SubmitEvaluation(NewId.NextGuid(), "photos", ModelName: "photos-model", ModelVersion: 1);
        await system.Bus.Publish(evaluation);
        await system.WaitForAsync(db => db.EvaluationResults.FirstOrDefaultAsync(r => r.RunId == evaluation.RunId), TimeSpan.FromMinutes(2), "the evaluation");
        var answer = await system.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(
            new ClassifyImage(NewId.NextGuid(), await File.ReadAllBytesAsync(TestServices.Fixture("tabby_cat.jpg")), ModelName: "photos-model", ModelVersion: 1, Top: 1));
        Assert.True(answer.Is(out Response<ImageClassified>? _), answer.Is(out Response<ClassificationRejected>? rejected) ? rejected.Message.Reason : "");
        foreach (var dataset in new[] { "../../etc", "/etc", "photos/../../outside" })
        {
            var refused = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(training with { RunId = NewId.NextGuid(), Dataset = dataset });
            Assert.True(refused.Is(out Response<CommandRejected>? _), $"dataset '{dataset}' was accepted");
        }
        worker.Kill();

        var allowedReads = new[] { system.DataRoot, system.ArtifactRoot, system.MessageData.Root, worker.Folder, DotnetRoot }.Concat(SystemFolders).ToArray();
        var allowedWrites = new[] { system.ArtifactRoot, system.MessageData.Root }.Concat(RuntimeScratch).ToArray();
        var accesses = ParseTrace(trace, worker.Folder);
        Assert.True(accesses.Count > 100, $"the trace holds only {accesses.Count} file accesses");
        Assert.Contains(accesses, a => a.Write && a.Path.StartsWith(system.ArtifactRoot + "/", StringComparison.Ordinal));
        Assert.Contains(accesses, a => !a.Write && a.Path.StartsWith(system.DataRoot + "/photos/", StringComparison.Ordinal));
        var outside = accesses.Where(a => !Under(a.Path, a.Write ? allowedWrites : allowedReads))
            .Select(a => $"{(a.Write ? "write" : "read")} {a.Path} ({a.Call})").Distinct().ToList();
        Assert.True(outside.Count == 0, "the worker touched files outside its roots:\n" + string.Join("\n", outside.Take(40)));
    }

    private static readonly string[] FileCalls = ["open", "openat", "creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir", "symlink", "symlinkat", "link", "linkat", "truncate"];

    // What any process reads: libraries, configuration, /proc and /sys, devices.
    private static readonly string[] SystemFolders = ["/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev"];

    // The .NET runtime's own: the debugger and diagnostics pipes, shared memory, /dev/null, its threads' names in /proc/self.
    private static readonly string[] RuntimeScratch = ["/tmp/clr-debug-pipe-", "/tmp/dotnet-diagnostic-", "/dev/shm", "/dev/null", "/proc/self"];

    private static string DotnetRoot => Path.GetDirectoryName(Environment.ProcessPath)!;

    private static bool Under(string path, string[] allowed) =>
        allowed.Any(root => path == root || path.StartsWith(root.EndsWith('-') ? root : root + "/", StringComparison.Ordinal));

    private sealed record FileAccess(string Call, string Path, bool Write);

    private static List<FileAccess> ParseTrace(string trace, string workingDirectory)
    {
        var accesses = new List<FileAccess>();
        foreach (var line in File.ReadLines(trace))
        {
            var call = Call().Match(line);
            if (!call.Success) continue;
            string name = call.Groups["name"].Value;
            bool write = name is not ("open" or "openat") || WriteFlags().IsMatch(line);
            foreach (Match quoted in Quoted().Matches(line))
            {
                var path = quoted.Groups[1].Value;
                accesses.Add(new FileAccess(name, Path.GetFullPath(path, workingDirectory), write));
            }
        }
        return accesses;
    }

    [GeneratedRegex(@"^\d+\s+(?<name>\w+)\(")]
    private static partial Regex Call();

    [GeneratedRegex(@"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")]
    private static partial Regex WriteFlags();

    [GeneratedRegex(@"""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Quoted();
}
