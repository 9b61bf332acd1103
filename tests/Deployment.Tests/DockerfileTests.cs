using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace SqueezeNext.Deployment.Tests;

/// <summary>
/// The Dockerfiles checked against the project files they build, in milliseconds and without an engine (the stack
/// test builds and runs them): every project the published one needs is copied before the restore and the publish,
/// every copied path exists and is not excluded by .dockerignore, output published on the host replaces the build,
/// and the runtime stage runs the published assembly as a non-root user.
/// Over 200 lines as one set of checks on the two Dockerfiles, which share their parsing.
/// </summary>
[Trait("Level", "processes")]
public sealed class DockerfileTests
{
    private static string Root => TestServices.RepositoryRoot;

    public static TheoryData<string> Dockerfiles() => new(DockerfilePaths());

    private static List<string> DockerfilePaths() => ComposeFileTests.Services().Values.Select(ComposeFileTests.Map)
        .Where(service => service.ContainsKey("build"))
        .Select(service => (string)ComposeFileTests.Map(service["build"])["dockerfile"])
        .Distinct().Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Compose_builds_the_worker_and_the_dashboard_from_the_repository_root()
    {
        Assert.Equal(["Dashboard/Dockerfile", "WorkerHost/Dockerfile"], DockerfilePaths());
        foreach (var service in ComposeFileTests.Services().Values.Select(ComposeFileTests.Map).Where(s => s.ContainsKey("build")))
            Assert.Equal(".", ComposeFileTests.Map(service["build"])["context"]);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_project_the_published_one_needs_is_copied_before_the_restore_and_the_publish(string dockerfile)
    {
        var (build, restore, publish, project, _) = BuildStage.Of(dockerfile);
        Assert.Equal(project, ProjectArgument(build[restore]));
        Assert.True(File.Exists(Path.Combine(Root, project)), $"{dockerfile}: restores {project}, which does not exist");

        var copies = build.Select((line, index) => (line, index)).Where(c => c.line.StartsWith("COPY ", StringComparison.Ordinal))
            .Select(c => (Sources: CopySources(c.line), c.index)).ToList();
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            Assert.Contains(copies, c => c.index < restore && c.Sources.Contains(file));
        foreach (var needed in ProjectClosure(project))
        {
            var folder = Path.GetDirectoryName(needed)!;
            Assert.True(copies.Any(c => c.index < restore && c.Sources.Contains(needed)), $"{dockerfile}: {needed} is not copied before the restore");
            Assert.True(copies.Any(c => c.index > restore && c.index < publish && c.Sources.Contains(folder + "/")), $"{dockerfile}: {folder}/ is not copied before the publish");
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_copied_path_exists_and_is_not_excluded_from_the_build_context(string dockerfile)
    {
        var ignored = File.ReadAllLines(Path.Combine(Root, ".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('!'))
            .Select(l => l.Replace("**/", "")).ToList();
        foreach (var stage in Stages(dockerfile))
        foreach (var copy in stage.Instructions.Where(i => i.StartsWith("COPY ", StringComparison.Ordinal) && !i.Contains("--from=")))
        foreach (var source in CopySources(copy).Select(s => Regex.Replace(s, @"^\$\{PUBLISHED:-(.+)\}$", "$1")))
        {
            Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)), $"{dockerfile}: COPY {source}: no such path");
            Assert.DoesNotContain(ignored, pattern => source.StartsWith(pattern.TrimEnd('/'), StringComparison.Ordinal) && pattern.Length > 1);
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void The_runtime_stage_runs_the_published_assembly_on_the_aspnet_image_as_a_non_root_user(string dockerfile)
    {
        var (_, _, _, project, output) = BuildStage.Of(dockerfile);
        var runtime = Stages(dockerfile)[^1];
        var assembly = XDocument.Load(Path.Combine(Root, project)).Descendants("AssemblyName").Single().Value;

        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", runtime.Image);
        Assert.Contains(runtime.Instructions, i => i.StartsWith($"COPY --from=build {output} ", StringComparison.Ordinal));
        Assert.Equal($"ENTRYPOINT [\"dotnet\", \"{assembly}.dll\"]", runtime.Instructions[^1]);
        var user = runtime.Instructions.Last(i => i.StartsWith("USER ", StringComparison.Ordinal));
        Assert.Contains(user, new[] { "USER $APP_UID", "USER app" });
        Assert.True(runtime.Instructions.IndexOf(user) < runtime.Instructions.Count - 1);
        Assert.Contains(runtime.Instructions, i => i.StartsWith("ENV Urls=http://+:8080", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Output_published_on_the_host_replaces_the_restore_and_the_publish(string dockerfile)
    {
        var (build, restore, publish, project, output) = BuildStage.Of(dockerfile);

        Assert.Contains("ARG PUBLISHED=", build);
        foreach (var step in new[] { restore, publish })
            Assert.StartsWith("RUN if [ -z \"$PUBLISHED\" ]; then dotnet ", build[step]);
        // The host's output lands where the publish writes; without it, the file copied instead is one the publish writes.
        var copy = build.FindIndex(i => i.StartsWith("COPY ${PUBLISHED:-", StringComparison.Ordinal));
        Assert.True(copy > restore && copy < publish, $"{dockerfile}: no COPY ${{PUBLISHED:-...}} between the restore and the publish");
        var placeholder = Regex.Match(build[copy], @"^COPY \$\{PUBLISHED:-(\S+)\} (\S+)$");
        Assert.Equal(output.TrimEnd('/') + "/", placeholder.Groups[2].Value);
        Assert.Equal(Path.GetDirectoryName(project) + "/appsettings.json", placeholder.Groups[1].Value);
        Assert.True(File.Exists(Path.Combine(Root, placeholder.Groups[1].Value)));
        // The build context lets the host's output in.
        Assert.Contains("!artifacts/publish/", File.ReadAllLines(Path.Combine(Root, ".dockerignore")));
    }

    [Fact]
    public void The_worker_image_passes_the_torch_device_to_the_restore_and_the_publish()
    {
        var (build, restore, publish, _, _) = BuildStage.Of("WorkerHost/Dockerfile");

        Assert.Contains("ARG TORCH_DEVICE=cpu", build);
        Assert.Contains("-p:TorchDevice=${TORCH_DEVICE}", build[restore]);
        Assert.Contains("-p:TorchDevice=${TORCH_DEVICE}", build[publish]);
    }

    [Fact]
    public void The_torch_device_switch_swaps_the_cpu_libtorch_for_torchsharp_cuda()
    {
        static List<string> References(string extra)
        {
            var (exitCode, output) = ExternalProcess.Run("dotnet", $"msbuild Vision/Vision.csproj -getItem:PackageReference {extra}", TestServices.RepositoryRoot);
            Assert.True(exitCode == 0, output);
            return Regex.Matches(output, "\"Identity\": \"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        }

        var cpu = References("");
        var cuda = References("-p:TorchDevice=cuda");

        Assert.Contains("libtorch-cpu-linux-x64", cpu);
        Assert.DoesNotContain("TorchSharp-cuda-linux", cpu);
        Assert.Contains("TorchSharp-cuda-linux", cuda);
        Assert.DoesNotContain("libtorch-cpu-linux-x64", cuda);
        var versions = XDocument.Load(Path.Combine(Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(p => p.Attribute("Include")!.Value, p => p.Attribute("Version")!.Value);
        Assert.Equal(versions["TorchSharp"], versions["TorchSharp-cuda-linux"]);
    }

    [Fact]
    public void The_worker_image_starts_the_worker_with_the_training_heap_settings()
    {
        var runtime = Stages("WorkerHost/Dockerfile")[^1].Instructions.Where(i => i.StartsWith("ENV ", StringComparison.Ordinal)).ToList();
        var settings = runtime.SelectMany(i => i[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        foreach (var (key, value) in TestServices.TrainingHeapEnvironment())
            Assert.Contains($"{key}={value}", settings);
    }

    private sealed record Stage(string Image, string? Name, List<string> Instructions);

    /// <summary>The build stage: where it restores and publishes, the project it publishes and the output folder.</summary>
    private sealed record BuildStage(List<string> Instructions, int Restore, int Publish, string Project, string Output)
    {
        public static BuildStage Of(string dockerfile)
        {
            var build = Stages(dockerfile).First(s => s.Name == "build").Instructions;
            int publish = Index(build, "dotnet publish ");
            return new BuildStage(build, Index(build, "dotnet restore "), publish, ProjectArgument(build[publish]),
                Regex.Match(build[publish], @"-o ([^\s;]+)").Groups[1].Value);
        }
    }

    /// <summary>The Dockerfile's stages, each a list of instructions with continuation lines joined and comments dropped.</summary>
    private static List<Stage> Stages(string dockerfile)
    {
        var instructions = new List<string>();
        var current = "";
        foreach (var raw in File.ReadAllLines(Path.Combine(Root, dockerfile)))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0)) continue;
            current += (current.Length > 0 ? " " : "") + line.TrimEnd('\\').Trim();
            if (line.EndsWith('\\')) continue;
            if (current.Length > 0) instructions.Add(current);
            current = "";
        }
        var stages = new List<Stage>();
        foreach (var instruction in instructions)
        {
            var from = Regex.Match(instruction, @"^FROM (\S+)(?: AS (\S+))?$");
            if (from.Success) stages.Add(new Stage(from.Groups[1].Value, from.Groups[2].Success ? from.Groups[2].Value : null, []));
            else if (stages.Count > 0) stages[^1].Instructions.Add(instruction);
        }
        Assert.True(stages.Count >= 2, $"{dockerfile}: not a multi-stage build");
        return stages;
    }

    /// <summary>The RUN instruction that runs <paramref name="command"/>.</summary>
    private static int Index(List<string> instructions, string command)
    {
        var index = instructions.FindIndex(i => i.StartsWith("RUN ", StringComparison.Ordinal) && i.Contains(command, StringComparison.Ordinal));
        Assert.True(index >= 0, $"no RUN instruction runs '{command.Trim()}'");
        return index;
    }

    private static string ProjectArgument(string run) => Regex.Match(run, @"dotnet (?:restore|publish) ([^\s;]+)").Groups[1].Value;

    private static List<string> CopySources(string copy)
    {
        var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToList();
        return parts[..^1];
    }

    /// <summary>The project and every project it references, directly or not, as repository-relative paths.</summary>
    private static SortedSet<string> ProjectClosure(string project)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var next))
        {
            if (!found.Add(next)) continue;
            var folder = Path.GetDirectoryName(Path.Combine(Root, next))!;
            foreach (var reference in XDocument.Load(Path.Combine(Root, next)).Descendants("ProjectReference"))
                pending.Push(Path.GetRelativePath(Root, Path.GetFullPath(Path.Combine(folder, reference.Attribute("Include")!.Value.Replace('\\', '/')))).Replace('\\', '/'));
        }
        return found;
    }
}
