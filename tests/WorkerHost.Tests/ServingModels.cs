using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>Model versions the classification tests serve: random weights suffice, the tests are about the plumbing.</summary>
public static class ServingModels
{
    /// <summary>Saves a randomly initialised 1000-class SqueezeNext under the artifact root and registers it as serving <paramref name="name"/>.</summary>
    public static async Task ServeRandomImageNetModelAsync(JobSystem system, string name, int seed)
    {
        var configuration = ConfigurationCatalog.Get("v_1_0_SqNxt_23");
        var path = Path.Combine(system.ArtifactRoot, "models", name, "v1");
        using (var network = new SqueezeNextNetwork(configuration.Architecture, seed: seed))
            ModelArtifact.Save(path, network, configuration);
        await using var db = system.Db();
        db.ModelVersions.Add(new ModelVersion
        {
            Name = name, Version = 1, Path = path, ConfigurationName = configuration.Name, IsServing = true, CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
    }
}
