using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary>A worker of its own: the imported model serves, which must not disturb the other classification tests.</summary>
[Trait("Level", "processes")]
public sealed class ImportingWorker : IAsyncLifetime
{
    public JobSystem System { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        System = await JobSystem.CreateAsync();
        // Real photos in folders named by their ILSVRC synsets: an ImageNet model evaluates on them with its own indices.
        foreach (var (synset, file) in new[] { ("n02123045", "tabby_cat.jpg"), ("n02123045", "chelsea.png"), ("n07920052", "coffee.png") })
        {
            var folder = Directory.CreateDirectory(Path.Combine(System.DataRoot, "imagenet-photos", synset)).FullName;
            File.Copy(TestServices.Fixture(file), Path.Combine(folder, file));
        }
        await System.StartClientAsync();
        // This worker also publishes the answers its callers wait for (an audit trail of every classification).
        await System.StartWorkerAsync(new Dictionary<string, string>
        {
            ["Worker__TorchThreads"] = "2",
            ["Worker__Classification__PublishAnsweredEvents"] = "true",
        });
    }

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>Pretrained weights from outside: imported through the broker, promoted, and answering the classify queue.</summary>
[Trait("Level", "processes")]
public sealed class ImportModelTests(ImportingWorker worker) : IClassFixture<ImportingWorker>
{
    private readonly JobSystem system = worker.System;

    /// <summary>A state dict in pytorchcv's names and layout, as the published weights come (seeded weights stand in for them).</summary>
    private byte[] PytorchcvStateDict(string configurationName)
    {
        var configuration = ConfigurationCatalog.Get(configurationName);
        var folder = Path.Combine(system.Root, "pytorchcv-" + Guid.NewGuid().ToString("N"));
        using (var network = new SqueezeNextNetwork(configuration.Architecture, configuration.Training.Init, seed: 11))
            ModelArtifact.Save(folder, network, configuration);
        var file = Path.Combine(folder, configurationName + ".pth");
        ModelExport.ToPytorch(folder, file);
        return File.ReadAllBytes(file);
    }

    [Fact]
    public async Task An_imported_pytorchcv_state_dict_is_registered_promoted_and_classifies()
    {
        var command = new ImportModel(NewId.NextGuid(), "pretrained", "sqnxt23_w1-0e1b.pth", "pytorch", PytorchcvStateDict("sqnxt23_w1"), "sqnxt23_w1");

        var imported = await system.Client<ImportModel>().GetResponse<ModelRegistered, CommandRejected>(command);
        Assert.True(imported.Is(out Response<ModelRegistered>? registered), imported.Is(out Response<CommandRejected>? r) ? r!.Message.Reason : "");
        Assert.Null(registered!.Message.SourceRunId);
        var again = await system.Client<ImportModel>().GetResponse<ModelRegistered, CommandRejected>(command);
        Assert.True(again.Is(out Response<ModelRegistered>? same) && same!.Message.Version == registered.Message.Version, "a redelivered import registered twice");

        var promoted = await system.Client<PromoteModel>().GetResponse<ModelPromoted, CommandRejected>(new PromoteModel(NewId.NextGuid(), "pretrained", registered.Message.Version));
        Assert.True(promoted.Is(out Response<ModelPromoted>? _));
        var request = new ClassifyImage(NewId.NextGuid(), File.ReadAllBytes(TestServices.Fixture("tabby_cat.jpg")), ModelName: "pretrained");
        var answer = await system.Client<ClassifyImage>().GetResponse<ImageClassified, ClassificationRejected>(request);

        Assert.True(answer.Is(out Response<ImageClassified>? classified), answer.Is(out Response<ClassificationRejected>? no) ? no!.Message.Reason : "");
        Assert.Equal(("pretrained", registered.Message.Version, 5), (classified!.Message.ModelName, classified.Message.ModelVersion, classified.Message.Predictions.Count));
        await system.WaitForEventAsync<ImageClassified>(e => e.RequestId == request.RequestId, TimeSpan.FromSeconds(30), "the ImageClassified event of an answered request");
        await using var db = system.Db();
        var version = await db.ModelVersions.SingleAsync(v => v.Name == "pretrained");
        Assert.Equal(("sqnxt23_w1", "imported from sqnxt23_w1-0e1b.pth"), (version.ConfigurationName, version.Description));
        Assert.Equal(PreprocessingKind.Torchvision, ModelArtifact.ReadManifest(version.Path).Configuration.Training.Preprocessing);
        // The weights are not kept in the command log.
        Assert.True((await db.ProcessedCommands.SingleAsync(c => c.Id == command.CommandId)).PayloadJson.Length < 1000);
    }

    [Fact]
    public async Task An_imported_model_version_is_evaluated_like_any_other()
    {
        var import = new ImportModel(NewId.NextGuid(), "evaluated", "sqnxt23v5_w1.pth", "pytorch", PytorchcvStateDict("sqnxt23v5_w1"), "sqnxt23v5_w1");
        var imported = await system.Client<ImportModel>().GetResponse<ModelRegistered, CommandRejected>(import);
        Assert.True(imported.Is(out Response<ModelRegistered>? _), "the import was rejected");

        var evaluation = new SubmitEvaluation(NewId.NextGuid(), "imagenet-photos", ModelName: "evaluated", ModelVersion: 1);
        var queued = await system.Client<SubmitEvaluation>().GetResponse<RunQueued, CommandRejected>(evaluation);
        Assert.True(queued.Is(out Response<RunQueued>? _), queued.Is(out Response<CommandRejected>? no) ? no!.Message.Reason : "");

        var result = await system.WaitForAsync(db => db.EvaluationResults.FirstOrDefaultAsync(r => r.RunId == evaluation.RunId),
            TimeSpan.FromMinutes(3), "the evaluation result");
        Assert.Equal(3, result.Images);
        Assert.InRange(result.Top5, result.Top1, 1.0);
        await using var db = system.Db();
        Assert.Equal("sqnxt23v5_w1", (await db.Runs.SingleAsync(r => r.Id == evaluation.RunId)).ConfigurationName);
    }

    [Fact]
    public async Task Weights_that_do_not_fit_are_rejected_naming_the_tensor_and_register_nothing()
    {
        var wrongConfiguration = new ImportModel(NewId.NextGuid(), "mismatch", "w2.pth", "pytorch", PytorchcvStateDict("sqnxt23_w2"), "sqnxt23_w1");
        var noConfiguration = new ImportModel(NewId.NextGuid(), "mismatch", "w1.pth", "pytorch", PytorchcvStateDict("sqnxt23_w1"));
        var unknownConfiguration = wrongConfiguration with { CommandId = NewId.NextGuid(), Configuration = "sqnxt99" };
        var notWeights = new ImportModel(NewId.NextGuid(), "mismatch", "notes.pth", "pytorch", "not a state dict"u8.ToArray(), "sqnxt23_w1");

        async Task<string> ReasonAsync(ImportModel command)
        {
            var response = await system.Client<ImportModel>().GetResponse<ModelRegistered, CommandRejected>(command);
            Assert.True(response.Is(out Response<CommandRejected>? rejected), $"{command.FileName} was registered");
            return rejected!.Message.Reason;
        }

        Assert.Contains("tensor 'features.init_block.conv.conv.weight' is [128, 3, 7, 7] in the file but the configuration needs [64, 3, 7, 7]", await ReasonAsync(wrongConfiguration));
        Assert.Contains("'w2.pth'", await ReasonAsync(wrongConfiguration with { CommandId = NewId.NextGuid() }));
        Assert.Contains("a PyTorch state dict carries no configuration", await ReasonAsync(noConfiguration));
        Assert.Contains("unknown configuration 'sqnxt99'", await ReasonAsync(unknownConfiguration));
        Assert.Contains("'notes.pth' is not a PyTorch state dict", await ReasonAsync(notWeights));
        await using var db = system.Db();
        Assert.False(await db.ModelVersions.AnyAsync(v => v.Name == "mismatch"));
        Assert.False(Directory.Exists(Path.Combine(system.ArtifactRoot, "models", "mismatch")));
        Assert.Empty(Directory.Exists(Path.Combine(system.ArtifactRoot, "models", ".staging"))
            ? Directory.EnumerateFileSystemEntries(Path.Combine(system.ArtifactRoot, "models", ".staging")) : []);
    }
}
