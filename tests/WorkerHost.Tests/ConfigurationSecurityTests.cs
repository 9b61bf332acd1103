using System.ComponentModel.DataAnnotations;
using ValidationResult = System.ComponentModel.DataAnnotations.ValidationResult;
using SqueezeNext.ServiceDefaults.Messaging;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Credentials come from configuration, stay out of the log, and RabbitMQ's guest account is refused beyond loopback.</summary>
[Trait("Level", "processes")]
public sealed class ConfigurationSecurityTests
{
    [Theory]
    [InlineData("127.0.0.1", "guest", true)]
    [InlineData("localhost", "guest", true)]
    [InlineData("::1", "guest", true)]
    [InlineData("[::1]", "guest", true)]
    [InlineData("rabbitmq", "guest", false)]
    [InlineData("10.0.0.5", "guest", false)]
    [InlineData("rabbitmq", "sqnxt", true)]
    public void The_guest_account_is_accepted_on_loopback_only(string host, string user, bool valid)
    {
        var options = new RabbitMqOptions { Host = host, Username = user, Password = "secret" };
        var problems = new List<ValidationResult>();
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true));
        if (!valid) Assert.Contains("guest account only works on loopback", Assert.Single(problems).ErrorMessage);
    }

    [Theory]
    [InlineData("RabbitMq__Host=rabbitmq.example;RabbitMq__Username=guest", "guest account only works on loopback", "RabbitMq__Username")]
    [InlineData("Worker__HeapTrimIntervalUnderLoad=10:00:00", "worker: refusing to start:", "HeapTrimIntervalUnderLoad must be between 00:00:01 and 01:00:00")]
    [InlineData("ConnectionStrings__Postgres=", "worker: refusing to start:", "ConnectionStrings:Postgres is not set (ConnectionStrings__Postgres)")]
    public async Task A_worker_given_a_bad_setting_refuses_to_start_in_one_line_naming_it(string settings, string expected, string named)
    {
        await using var system = await JobSystem.CreateAsync();
        var environment = settings.Split(';').Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => system.StartWorkerAsync(environment));

        Assert.Contains("the process exited with 2;", failure.Message);
        Assert.Contains(expected, failure.Message);
        Assert.Contains(named, failure.Message);
        Assert.DoesNotContain("Unhandled exception", failure.Message);
    }

    [Fact]
    public async Task The_database_password_never_reaches_the_workers_log()
    {
        // The test cluster trusts loopback, so any password connects; a distinctive one can be searched for.
        const string password = "pw-7f3a9c1e-not-for-logs";
        await using var system = await JobSystem.CreateAsync();
        system.AddPhotos();
        await system.StartClientAsync();
        var worker = await system.StartWorkerAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = system.ConnectionString + $";Password={password}",
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Microsoft.EntityFrameworkCore"] = "Debug",
            ["Logging__LogLevel__MassTransit"] = "Debug",
        });
        var submit = PhotoRuns.Submit(steps: 2);
        await system.Bus.Publish(submit);
        await system.WaitForAsync(db => db.Runs.FirstOrDefaultAsync(r => r.Id == submit.RunId && r.Status == RunStatus.Completed),
            TimeSpan.FromMinutes(2), "a run");
        worker.Kill();
        Assert.DoesNotContain(password, await File.ReadAllTextAsync(worker.LogPath));
    }
}
