using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace SqueezeNext.Deployment.Tests;

/// <summary>compose.yaml, checked without a Docker engine: by docker-compose's own validation and by its structure.</summary>
[Trait("Level", "processes")]
public sealed class ComposeFileTests
{
    private static readonly string ComposePath = Path.Combine(TestServices.RepositoryRoot, "compose.yaml");

    [SkippableFact]
    public void Docker_compose_validates_the_file()
    {
        Skip.IfNot(File.Exists("/usr/bin/docker-compose"), "docker-compose is not installed (scripts/test.sh installs Debian's)");

        foreach (var arguments in new[] { "-f compose.yaml config -q", "-f compose.yaml --profile gpu config -q", "-f compose.yaml --profile observability config -q" })
        {
            var (exitCode, output) = ExternalProcess.Run("/usr/bin/docker-compose", arguments, TestServices.RepositoryRoot);
            Assert.True(exitCode == 0, $"docker-compose {arguments}: {output}");
        }
    }

    [Fact]
    public void Every_base_image_the_file_and_the_dockerfiles_name_has_a_stand_in_recipe()
    {
        var (exitCode, listed) = ExternalProcess.Run("bash", "scripts/container-images.sh --list", TestServices.RepositoryRoot);
        Assert.True(exitCode == 0, listed);
        var standIns = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();

        // The observability profile's images are not in Debian, so they have no stand-in: that profile is validated, not run, here.
        var named = Services().Values.Select(Map).Where(service => !InProfile(service, ObservabilityProfile)).Select(service => (string)service["image"])
            .Where(image => !image.StartsWith("sqnxt-", StringComparison.Ordinal)).ToList();
        foreach (var dockerfile in new[] { "WorkerHost/Dockerfile", "Dashboard/Dockerfile" })
        {
            var lines = File.ReadAllLines(Path.Combine(TestServices.RepositoryRoot, dockerfile));
            var arguments = lines.Select(l => Regex.Match(l, @"^ARG (\w+)=(\S+)$")).Where(m => m.Success).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            named.AddRange(lines.Select(l => Regex.Match(l, @"^FROM (\S+)")).Where(m => m.Success)
                .Select(m => Regex.Replace(m.Groups[1].Value, @"\$\{(\w+)\}", v => arguments[v.Groups[1].Value])));
        }

        Assert.Contains("postgres:15", named);
        Assert.Empty(named.Distinct().Except(standIns));
    }

    [Fact]
    public void The_apps_start_once_postgres_and_rabbitmq_are_healthy_and_the_worker_once_the_demo_data_is_in_place()
    {
        var services = Services();

        Assert.Contains("healthcheck", Service(services, "postgres").Keys);
        Assert.Contains("healthcheck", Service(services, "rabbitmq").Keys);
        Assert.Contains("management", (string)Service(services, "rabbitmq")["image"]);
        foreach (var app in new[] { "worker", "worker-gpu", "dashboard" })
        {
            var dependsOn = Map(Service(services, app)["depends_on"]);
            Assert.Equal("service_healthy", Map(dependsOn["postgres"])["condition"]);
            Assert.Equal("service_healthy", Map(dependsOn["rabbitmq"])["condition"]);
        }
        foreach (var worker in new[] { "worker", "worker-gpu" })
            Assert.Equal("service_completed_successfully", Map(Map(Service(services, worker)["depends_on"])["demo-data"])["condition"]);
        Assert.Contains("data:/data", Strings(Service(services, "demo-data")["volumes"]));
    }

    [Fact]
    public void Workers_share_the_data_and_artifact_volumes_and_can_be_scaled()
    {
        var services = Services();

        foreach (var worker in new[] { "worker", "worker-gpu" })
        {
            var service = Service(services, worker);
            Assert.Contains("data:/data", Strings(service["volumes"]));
            Assert.Contains("artifacts:/artifacts", Strings(service["volumes"]));
            // A fixed container name or host port would stop `--scale worker=N`.
            Assert.DoesNotContain("container_name", service.Keys);
            Assert.DoesNotContain("ports", service.Keys);
        }
        Assert.Contains("postgres:/var/lib/postgresql/data", Strings(Service(services, "postgres")["volumes"]));
        // Uploads land on the volume the workers import from.
        var dashboard = Service(services, "dashboard");
        Assert.Contains("data:/data", Strings(dashboard["volumes"]));
        Assert.Equal("/data", Map(dashboard["environment"])["Datasets__DataRoot"]?.ToString());
    }

    [Fact]
    public void The_gpu_profile_builds_the_worker_against_cuda_and_reserves_the_nvidia_devices()
    {
        var gpu = Service(Services(), "worker-gpu");

        Assert.Equal(["gpu"], Strings(gpu["profiles"]));
        Assert.Equal("cuda", Map(Map(gpu["build"])["args"])["TORCH_DEVICE"]);
        Assert.Equal("cuda", Map(gpu["environment"])["Worker__Device"]);
        var device = Map(((List<object>)Map(Map(Map(gpu["deploy"])["resources"])["reservations"])["devices"]).Single());
        Assert.Equal("nvidia", device["driver"]);
        Assert.Equal(["gpu"], Strings(device["capabilities"]));
        Assert.Equal("cpu", Map(Map(Service(Services(), "worker")["build"])["args"])["TORCH_DEVICE"]);
    }

    [Fact]
    public void Every_setting_the_file_reads_from_the_environment_is_in_the_committed_env_example()
    {
        var used = Regex.Matches(File.ReadAllText(ComposePath), @"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)").Select(m => m.Groups[1].Value).ToHashSet();
        var example = File.ReadAllLines(Path.Combine(TestServices.RepositoryRoot, ".env.example"))
            .Where(line => line.Contains('=') && !line.TrimStart().StartsWith('#'))
            .Select(line => line[..line.IndexOf('=')].Trim()).ToHashSet();

        Assert.NotEmpty(used);
        Assert.Empty(used.Except(example));
    }

    [SkippableFact]
    public void The_observability_profile_mounts_configuration_that_exists_and_prometheus_accepts()
    {
        var services = Services();
        var observability = services.Where(s => InProfile(Map(s.Value), ObservabilityProfile)).Select(s => (string)s.Key).Order().ToList();
        Assert.Equal(["grafana", "jaeger", "otel-collector", "prometheus"], observability);
        var mounted = observability.SelectMany(name => Service(services, name).TryGetValue("volumes", out var volumes) ? Strings(volumes) : [])
            .Where(volume => volume.StartsWith("./", StringComparison.Ordinal)).Select(volume => volume.Split(':')[0][2..]).ToList();
        Assert.Equal(6, mounted.Count);
        Assert.All(mounted, file => Assert.True(File.Exists(Path.Combine(TestServices.RepositoryRoot, file)), $"compose.yaml mounts {file}, which does not exist"));
        // Both hosts are scraped on the port they listen on in their images.
        var prometheus = File.ReadAllText(Path.Combine(TestServices.RepositoryRoot, "docs/observability/prometheus.yml"));
        Assert.Contains("names: [worker, worker-gpu]", prometheus);
        Assert.Contains("\"dashboard:8080\"", prometheus);

        Skip.IfNot(File.Exists("/usr/bin/promtool"), "promtool is not installed (scripts/test.sh installs Debian's prometheus)");
        var folder = Directory.CreateTempSubdirectory("sqnxt-prometheus-").FullName;
        try
        {
            // The configuration names the rules where the container mounts them; promtool reads them beside it.
            File.WriteAllText(Path.Combine(folder, "prometheus.yml"), prometheus.Replace("/etc/prometheus/alerts.yml", "alerts.yml"));
            File.Copy(Path.Combine(TestServices.RepositoryRoot, "docs/observability/alerts.yml"), Path.Combine(folder, "alerts.yml"));
            var (exitCode, output) = ExternalProcess.Run("/usr/bin/promtool", "check config prometheus.yml", folder);
            Assert.True(exitCode == 0, output);
            Assert.Contains("SUCCESS: 9 rules found", output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private const string ObservabilityProfile = "observability";

    private static bool InProfile(Dictionary<object, object> service, string profile) =>
        service.TryGetValue("profiles", out var profiles) && Strings(profiles).Contains(profile);

    internal static Dictionary<object, object> Services()
    {
        using var reader = new StringReader(File.ReadAllText(ComposePath));
        // MergingParser resolves the file's `<<: *anchor` merge keys as docker-compose does.
        var document = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return Map(document["services"]);
    }

    internal static Dictionary<object, object> Service(Dictionary<object, object> services, string name) =>
        services.TryGetValue(name, out var service) ? Map(service) : throw new Xunit.Sdk.XunitException($"compose.yaml has no service '{name}'");

    internal static Dictionary<object, object> Map(object value) => (Dictionary<object, object>)value;

    private static List<string> Strings(object value) => ((List<object>)value).Select(v => (string)v).ToList();
}
