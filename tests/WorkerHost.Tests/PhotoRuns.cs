namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Small, fast training runs on the "photos" dataset (JobSystem.AddPhotos): two classes of real photos.</summary>
public static class PhotoRuns
{
    public static SubmitTraining Submit(long steps, int inputSize = 64, int? checkpointEvery = null) => new(
        NewId.NextGuid(), "v_1_0_SqNxt_23_mod", "photos",
        ConfigurationJson: $$"""{ "base": "v_1_0_SqNxt_23_mod", "name": "photos-{{inputSize}}", "architecture": { "inputSize": {{inputSize}} }, "training": { "batchSize": 4, "baseLearningRate": 0.02, "warmupSteps": 2, "preciseBatchNormBatches": 2 } }""",
        Settings: new TrainingSettings { MaxSteps = steps, CheckpointEverySteps = checkpointEvery, EvalEverySteps = 1000 });
}

/// <summary>A fresh job system per test with the photos dataset and a client bus; no worker is started.</summary>
public abstract class PhotoJobSystemTests : IAsyncLifetime
{
    protected JobSystem system = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        system.AddPhotos();
        await system.StartClientAsync();
    }

    public async Task DisposeAsync() => await system.DisposeAsync();
}
