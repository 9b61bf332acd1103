using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SqueezeNext.Contracts;
using SqueezeNext.Persistence;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.Testing;

/// <summary>
/// An isolated job system on the real services for one test: its own PostgreSQL database, its own RabbitMQ virtual
/// host, its own data and artifact roots, worker processes, and a client bus that records every event it sees.
/// Over 200 lines as the one harness every job-layer test starts from.
/// </summary>
public sealed class JobSystem : IAsyncDisposable
{
    private readonly string id = Guid.NewGuid().ToString("N")[..12];
    private readonly List<AppProcess> processes = [];
    private readonly ServiceEndpoints services;
    private RecordingBus? client;

    private JobSystem(ServiceEndpoints services)
    {
        this.services = services;
        Root = Directory.CreateTempSubdirectory("sqnxt-jobs-").FullName;
        DataRoot = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        ArtifactRoot = Directory.CreateDirectory(Path.Combine(Root, "artifacts")).FullName;
        MessageData = new ConfinedFileMessageDataRepository(Path.Combine(Root, "message-data"), long.MaxValue);
    }

    /// <summary>The claim-check store the dashboard, the workers and the client bus of this job system share.</summary>
    public ConfinedFileMessageDataRepository MessageData { get; }

    /// <summary>A classify request as the hosts make one: the image inside up to 1 MiB, by reference in <see cref="MessageData"/> above.</summary>
    public async Task<ClassifyImage> ClassifyRequestAsync(byte[] image, int top = 5) =>
        image.Length <= new MessageDataOptions().InlineLimitBytes
            ? new ClassifyImage(NewId.NextGuid(), image, top)
            : new ClassifyImage(NewId.NextGuid(), [], top, ImageData: await MessageData.PutBytes(image));

    public string Root { get; }
    public string DataRoot { get; }
    public string ArtifactRoot { get; }
    public string Database => $"sqnxt_test_{id}";
    public string VirtualHost => $"sqnxt-test-{id}";
    public string ConnectionString => $"Host={services.Host};Port={services.PostgresPort};Username=postgres;Database={Database};Pooling=false";
    public ConcurrentQueue<object> Events => Client().Events;

    public IBus Bus => Client().Bus;

    /// <param name="services">Where PostgreSQL and RabbitMQ are (default: the run's shared test services).</param>
    public static async Task<JobSystem> CreateAsync(ServiceEndpoints? services = null)
    {
        var system = new JobSystem(services ?? ServiceEndpoints.Shared);
        await using (var admin = new NpgsqlConnection(system.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{system.Database}\"", admin);
            await create.ExecuteNonQueryAsync();
        }
        using var http = system.Management();
        (await http.PutAsync($"/api/vhosts/{system.VirtualHost}", Json(new { }))).EnsureSuccessStatusCode();
        (await http.PutAsync($"/api/permissions/{system.VirtualHost}/{system.services.RabbitUser}", Json(new { configure = ".*", write = ".*", read = ".*" })))
            .EnsureSuccessStatusCode();
        return system;
    }

    /// <summary>Links Fashion-MNIST into the data root under <paramref name="name"/>; false when it is not installed.</summary>
    public bool AddFashionMnist(string name = "fashion-mnist")
    {
        if (!File.Exists(Path.Combine(TestServices.FashionMnist, "train-images-idx3-ubyte.gz"))) return false;
        Directory.CreateSymbolicLink(Path.Combine(DataRoot, name), TestServices.FashionMnist);
        return true;
    }

    /// <summary>A class-folder dataset of the real photos under the data root: two classes, each image copied <paramref name="copies"/> times.</summary>
    public string AddPhotos(string name = "photos", int copies = 8)
    {
        foreach (var (label, file) in new[] { ("cat", "chelsea.png"), ("cup", "coffee.png") })
        {
            var folder = Directory.CreateDirectory(Path.Combine(DataRoot, name, label)).FullName;
            for (int i = 0; i < copies; i++) File.Copy(TestServices.Fixture(file), Path.Combine(folder, $"{i}_{file}"));
        }
        return name;
    }

    /// <summary>Where the worker and the dashboard of this job system find the database and the broker.</summary>
    private Dictionary<string, string> ServiceSettings() => new()
    {
        ["ConnectionStrings__Postgres"] = ConnectionString,
        ["RabbitMq__Host"] = services.Host,
        ["RabbitMq__Port"] = services.RabbitPort.ToString(),
        ["RabbitMq__VirtualHost"] = VirtualHost,
        ["RabbitMq__Username"] = services.RabbitUser,
        ["RabbitMq__Password"] = services.RabbitPassword,
        ["MessageData__Directory"] = MessageData.Root,
    };

    /// <summary>A proxy to this job system's PostgreSQL that a test can cut, and the worker settings that connect through it.</summary>
    public (TcpProxy Proxy, Dictionary<string, string> Settings) PostgresThroughProxy()
    {
        var proxy = new TcpProxy(services.Host, services.PostgresPort);
        return (proxy, new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port={proxy.Port};Username=postgres;Database={Database};Pooling=false;Timeout=3",
        });
    }

    public IReadOnlyDictionary<string, string> WorkerSettings(IReadOnlyDictionary<string, string>? overrides = null)
    {
        var settings = ServiceSettings();
        settings["Worker__DataRoot"] = DataRoot;
        settings["Worker__ArtifactRoot"] = ArtifactRoot;
        settings["Worker__Device"] = "cpu";
        settings["Worker__TorchThreads"] = "1";
        settings["Worker__LoaderThreads"] = "1";
        settings["Worker__HeartbeatInterval"] = "00:00:00.500";
        settings["Worker__StaleAfter"] = "00:00:04";
        settings["Worker__PollInterval"] = "00:00:00.250";
        settings["Worker__FlushInterval"] = "00:00:00.250";
        // As shipped: the Dockerfile and scripts/run-local.sh start the worker with these.
        foreach (var (key, value) in TestServices.TrainingHeapEnvironment()) settings[key] = value;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        return settings;
    }

    public async Task<AppProcess> StartWorkerAsync(IReadOnlyDictionary<string, string>? overrides = null, IReadOnlyList<string>? launcher = null)
    {
        var worker = new AppProcess("WorkerHost", "SqueezeNext.WorkerHost.dll", WorkerSettings(overrides), Path.Combine(Root, $"worker-{processes.Count + 1}.log"), launcher);
        processes.Add(worker);
        await worker.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return worker;
    }

    /// <summary>Starts the dashboard (Development environment, so its framework script is served from the build output).</summary>
    public async Task<AppProcess> StartDashboardAsync(string adminPassword, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var settings = ServiceSettings();
        settings["DASHBOARD_ADMIN_PASSWORD"] = adminPassword;
        settings["ASPNETCORE_ENVIRONMENT"] = "Development";
        // Uploads land on the data volume the workers read.
        settings["Datasets__DataRoot"] = DataRoot;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) settings[key] = value;
        var dashboard = new AppProcess("Dashboard", "SqueezeNext.Dashboard.dll", settings, Path.Combine(Root, $"dashboard-{processes.Count + 1}.log"));
        processes.Add(dashboard);
        await dashboard.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return dashboard;
    }

    /// <summary>
    /// Starts a client bus on the test's virtual host that records every job-system event; <paramref name="configure"/>
    /// adds endpoints of the test's own.
    /// </summary>
    public async Task StartClientAsync(Action<IRabbitMqBusFactoryConfigurator>? configure = null) =>
        client = await RecordingBus.StartAsync(services.Host, services.RabbitPort, VirtualHost, services.RabbitUser, services.RabbitPassword, configure, MessageData);

    private RecordingBus Client() => client ?? throw new InvalidOperationException("the client bus is not started");

    public IRequestClient<T> Client<T>() where T : class => Client().Client<T>();

    public JobsDbContext Db() => new(new DbContextOptionsBuilder<JobsDbContext>().UseNpgsql(ConnectionString).Options);

    public IEnumerable<T> EventsOf<T>() => Client().EventsOf<T>();

    /// <summary>Polls until <paramref name="probe"/> returns a value, failing with the workers' logs after <paramref name="timeout"/>.</summary>
    public Task<T> WaitForAsync<T>(Func<JobsDbContext, Task<T?>> probe, TimeSpan timeout, string what) where T : class =>
        Poll.ForAsync(async () =>
        {
            await using var db = Db();
            return await probe(db);
        }, what, timeout, Logs);

    public Task WaitForEventAsync<T>(Func<T, bool> match, TimeSpan timeout, string what) => Client().WaitForEventAsync(match, timeout, what, Logs);

    /// <summary>Messages waiting in a queue of the test's virtual host (0 when the queue does not exist).</summary>
    public async Task<int> QueueDepthAsync(string queue)
    {
        using var http = Management();
        var response = await http.GetAsync($"/api/queues/{VirtualHost}/{queue}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return 0;
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("messages", out var messages) ? messages.GetInt32() : 0;
    }

    /// <summary>
    /// Declares a durable queue bound to a message type's exchange (MassTransit names it "Namespace:Type"), so that
    /// what is sent there with no consumer running stays to be inspected with <see cref="TakeMessagesAsync"/>.
    /// </summary>
    public async Task BindQueueAsync(string queue, string exchange)
    {
        using var http = Management();
        (await http.PutAsync($"/api/exchanges/{VirtualHost}/{Uri.EscapeDataString(exchange)}", Json(new { type = "fanout", durable = true }))).EnsureSuccessStatusCode();
        (await http.PutAsync($"/api/queues/{VirtualHost}/{queue}", Json(new { durable = true }))).EnsureSuccessStatusCode();
        (await http.PostAsync($"/api/bindings/{VirtualHost}/e/{Uri.EscapeDataString(exchange)}/q/{queue}", Json(new { }))).EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Takes up to <paramref name="count"/> messages off a queue: each with its AMQP properties (delivery_mode, headers,
    /// ...) and its payload, cut after <paramref name="payloadChars"/> characters.
    /// </summary>
    public async Task<IReadOnlyList<JsonElement>> TakeMessagesAsync(string queue, int count, int payloadChars = 1000)
    {
        using var http = Management();
        var response = await http.PostAsync($"/api/queues/{VirtualHost}/{queue}/get",
            Json(new { count, ackmode = "ack_requeue_false", encoding = "auto", truncate = payloadChars }));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.EnumerateArray().Select(message => message.Clone()).ToArray();
    }

    /// <summary>
    /// The queue's depth once it reaches zero, or after <paramref name="timeout"/> whatever it is then: the management
    /// API's counts are sampled (every 5 s by default), so a queue just drained can read 1 for a few seconds.
    /// </summary>
    public async Task<int> QueueDepthWhenDrainedAsync(string queue, TimeSpan timeout)
    {
        int depth = 0;
        try
        {
            await Poll.UntilAsync(async () => (depth = await QueueDepthAsync(queue)) == 0, $"{queue} draining", timeout);
        }
        catch (TimeoutException)
        {
        }
        return depth;
    }

    /// <summary>
    /// The messages waiting in <paramref name="queue"/> now (ready, not yet delivered), from the broker itself rather
    /// than the management API's sampled counts; 0 for a queue that does not exist.
    /// </summary>
    public async Task<uint> ReadyMessagesAsync(string queue)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory
        {
            HostName = services.Host, Port = services.RabbitPort, VirtualHost = VirtualHost, UserName = services.RabbitUser, Password = services.RabbitPassword,
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    /// <summary>
    /// Waits until every one of <paramref name="queues"/> is empty and what <paramref name="observe"/> reads (counts of
    /// rows, events, set-aside messages) has stayed the same for <paramref name="stableFor"/> (3 s by default: longer
    /// than a worker's redelivery of a message it failed on), and returns that reading. Whatever a test asserts did
    /// not happen after that had its chance to happen.
    /// </summary>
    public async Task<string> WaitUntilSettledAsync(IReadOnlyList<string> queues, Func<Task<string>> observe, string what, TimeSpan? stableFor = null, TimeSpan? timeout = null)
    {
        async Task<string> ReadAsync()
        {
            var waiting = new List<string>();
            foreach (var queue in queues)
                if (await ReadyMessagesAsync(queue) is > 0 and var count) waiting.Add($"{queue}: {count}");
            return waiting.Count > 0 ? $"waiting {string.Join(", ", waiting)}" : await observe();
        }
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var reading = await Poll.UntilStableAsync(ReadAsync, what, stableFor ?? TimeSpan.FromSeconds(3), deadline - DateTime.UtcNow, Logs);
            if (!reading.StartsWith("waiting ", StringComparison.Ordinal)) return reading;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: the queues did not empty ({reading}).\n{Logs()}");
        }
    }

    public string Logs() => string.Join("\n---\n", processes.Select(w => w.ReadLog()));

    /// <summary>Polls <paramref name="done"/> every half second until it holds; fails after the timeout (a minute) with the processes' logs.</summary>
    public Task WaitUntilAsync(Func<Task<bool>> done, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(done, what, timeout ?? TimeSpan.FromMinutes(1), Logs);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes) process.Dispose();
        if (client is not null) await client.DisposeAsync();
        try
        {
            await using var admin = new NpgsqlConnection(AdminConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            using var http = Management();
            await http.DeleteAsync($"/api/vhosts/{VirtualHost}");
        }
        catch (Exception e) when (e is NpgsqlException or HttpRequestException)
        {
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string AdminConnectionString => $"Host={services.Host};Port={services.PostgresPort};Username=postgres;Database=postgres;Pooling=false";

    private HttpClient Management()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{services.Host}:{services.RabbitManagementPort}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.ASCII.GetBytes($"{services.RabbitUser}:{services.RabbitPassword}")));
        return http;
    }

    private static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");
}
