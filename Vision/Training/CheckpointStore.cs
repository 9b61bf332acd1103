using System.Globalization;
using System.Text.Json;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;
using SqueezeNext.Vision.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>A checkpoint read back from disk.</summary>
public sealed class LoadedCheckpoint(LoadedModel model, TrainingState state, Dictionary<string, Tensor> optimizerState, string directory) : IDisposable
{
    public LoadedModel Model { get; } = model;
    public TrainingState State { get; } = state;
    public IReadOnlyDictionary<string, Tensor> OptimizerState { get; } = optimizerState;
    public string Directory { get; } = directory;

    public void Dispose()
    {
        foreach (var tensor in optimizerState.Values) tensor.Dispose();
        Model.Dispose();
    }
}

/// <summary>
/// Checkpoints of one run under <c>&lt;out&gt;/checkpoints/step-&lt;N&gt;/</c>. Each is a complete model directory
/// (model.json, weights.safetensors: evaluate or predict with it directly) plus <c>optimizer.safetensors</c>
/// (SGD velocities) and <c>state.json</c>. A checkpoint is assembled in a hidden folder and renamed into place, so a
/// crash never leaves a partial checkpoint where a resume would find it. The newest <c>keep</c> are kept.
/// </summary>
public sealed class CheckpointStore(string outputDirectory, int keep)
{
    public const string OptimizerFileName = "optimizer.safetensors";
    public const string StateFileName = "state.json";
    private const string Prefix = "step-";

    public string Directory { get; } = Path.Combine(outputDirectory, "checkpoints");

    public string Save(SqueezeNextNetwork network, SqueezeNextConfiguration configuration, IReadOnlyList<string>? classes,
        SgdMomentum optimizer, TrainingState state)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var name = Prefix + state.Step.ToString("D8", CultureInfo.InvariantCulture);
        var final = Path.Combine(Directory, name);
        var partial = Path.Combine(Directory, $".{name}.{Guid.NewGuid():N}.partial");
        try
        {
            ModelArtifact.Save(partial, network, configuration, classes, $"checkpoint at step {state.Step}");
            SafetensorsFile.Write(Path.Combine(partial, OptimizerFileName), optimizer.StateTensors());
            AtomicFile.WriteAllText(Path.Combine(partial, StateFileName), JsonSerializer.Serialize(state, ConfigurationJson.Options));
            FaultPoints.Reach(FaultPoints.CheckpointWrite);
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
            System.IO.Directory.Move(partial, final);
        }
        finally
        {
            if (System.IO.Directory.Exists(partial)) System.IO.Directory.Delete(partial, recursive: true);
        }
        Prune();
        return final;
    }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<(long Step, string Directory)> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.GetDirectories(Directory, Prefix + "*")
            .Select(d => (Name: Path.GetFileName(d), Path: d))
            .Where(d => long.TryParse(d.Name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out _)
                        && File.Exists(Path.Combine(d.Path, StateFileName)))
            .Select(d => (long.Parse(d.Name.AsSpan(Prefix.Length), CultureInfo.InvariantCulture), d.Path))
            .OrderBy(d => d.Item1)
            .ToList();
    }

    public string? Latest() => List() is { Count: > 0 } all ? all[^1].Directory : null;

    public static LoadedCheckpoint Load(string directory, SqueezeNextConfiguration? expected = null)
    {
        var statePath = Path.Combine(directory, StateFileName);
        if (!File.Exists(statePath))
            throw new ArtifactException($"'{directory}' is not a training checkpoint: it has no {StateFileName}");
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath), ConfigurationJson.Options)
            ?? throw new ArtifactException($"'{statePath}' is empty");
        var model = ModelArtifact.Load(directory, expected);
        try
        {
            var (tensors, _) = SafetensorsFile.Read(Path.Combine(directory, OptimizerFileName));
            return new LoadedCheckpoint(model, state, tensors.ToDictionary(t => t.Name, t => t.Tensor), directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private void Prune()
    {
        var all = List();
        foreach (var (_, directory) in all.Take(Math.Max(0, all.Count - keep)))
            System.IO.Directory.Delete(directory, recursive: true);
        // Leftovers of a crash in the middle of a save.
        foreach (var partial in System.IO.Directory.GetDirectories(Directory, ".*.partial"))
        {
            if (System.IO.Directory.GetLastWriteTimeUtc(partial) < DateTime.UtcNow.AddMinutes(-1))
                System.IO.Directory.Delete(partial, recursive: true);
        }
    }
}
