using SqueezeNext.Vision.Runtime;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>The worker is launched with glibc set up for training, and says which set-up it runs with.</summary>
[Trait("Level", "processes")]
public sealed class TrainingHeapTests
{
    [Fact]
    public void The_launchers_settings_are_the_ones_the_worker_checks_for()
    {
        Assert.Equal(NativeHeap.TrainingEnvironment.OrderBy(s => s.Key), TestServices.TrainingHeapEnvironment().OrderBy(s => s.Key));
    }

    [Fact]
    public async Task A_worker_reports_whether_it_was_started_with_the_training_heap_settings()
    {
        await using var system = await JobSystem.CreateAsync();
        var tuned = await system.StartWorkerAsync();
        var plain = await system.StartWorkerAsync(NativeHeap.TrainingEnvironment.ToDictionary(s => s.Key, _ => ""));
        tuned.Kill();
        plain.Kill();

        Assert.Contains("glibc's malloc set up for training by the environment", await File.ReadAllTextAsync(tuned.LogPath));
        var plainLog = await File.ReadAllTextAsync(plain.LogPath);
        Assert.Contains("glibc's malloc, 2 arenas", plainLog);
        Assert.Contains("MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647", plainLog);
    }
}
