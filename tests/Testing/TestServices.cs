namespace SqueezeNext.Testing;

/// <summary>
/// Where the real PostgreSQL and RabbitMQ of the test run are: scripts/test.sh starts them with scripts/services.sh
/// and exports these variables; the defaults are services.sh's.
/// </summary>
public static class TestServices
{
    public static string PostgresHost => Env("SQNXT_PG_HOST", "127.0.0.1");
    public static int PostgresPort => int.Parse(Env("SQNXT_PG_PORT", "55432"));
    public static string RabbitHost => Env("SQNXT_RABBIT_HOST", "127.0.0.1");
    public static int RabbitPort => int.Parse(Env("SQNXT_RABBIT_PORT", "55672"));
    public static int RabbitManagementPort => int.Parse(Env("SQNXT_RABBIT_MANAGEMENT_PORT", "55673"));
    public static string RabbitUser => Env("SQNXT_RABBIT_USER", "guest");
    public static string RabbitPassword => Env("SQNXT_RABBIT_PASSWORD", "guest");

    /// <summary>services.sh's state folder, where the broker's configuration file is.</summary>
    public static string ServicesDirectory => Env("SQNXT_SERVICES_DIR", Path.GetFullPath(Path.Combine(RepositoryRoot, "artifacts", "services")));

    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SqueezeNext.Jobs.sln"))) directory = directory.Parent;
            return directory?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The build output of one of the repository's projects, in the configuration the tests were built in.</summary>
    public static string ProjectOutput(string project)
    {
        // Tests run from tests/<Project>/bin/<Configuration>/<tfm>/.
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = tfm.Parent!.Name;
        var folder = Path.Combine(RepositoryRoot, project, "bin", configuration, tfm.Name);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder} is not built");
        return folder;
    }

    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>The glibc settings the worker is launched with everywhere (scripts/training-heap.env).</summary>
    public static IReadOnlyDictionary<string, string> TrainingHeapEnvironment() =>
        File.ReadAllLines(Path.Combine(RepositoryRoot, "scripts", "training-heap.env"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
