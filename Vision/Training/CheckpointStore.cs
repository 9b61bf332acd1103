using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SqueezeNext.Vision.Artifacts;
using SqueezeNext.Vision.Runtime;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Training;

/// <summary>A checkpoint read back from disk.</summary>
public sealed class LoadedCheckpoint(LoadedModel model, TrainingState state, TrainingPlan? plan, Dictionary<string, Tensor> optimizerState, string directory) : IDisposable
{
    public LoadedModel Model { get; } = model;
    public TrainingState State { get; } = state;

    /// <summary>The plan of the run that wrote it; null for checkpoints written before plans were stored.</summary>
    public TrainingPlan? Plan { get; } = plan;

    public IReadOnlyDictionary<string, Tensor> OptimizerState { get; } = optimizerState;
    public string Directory { get; } = directory;

    public void Dispose()
    {
        foreach (var tensor in optimizerState.Values) tensor.Dispose();
        Model.Dispose();
    }
}

/// <summary>
/// Checkpoints of one run under <c>&lt;out&gt;/checkpoints/step-&lt;N&gt;/</c> (<c>step-&lt;N&gt;-a&lt;attempt&gt;</c> for
/// an attempt of a job). Each is a complete model directory (model.json, weights.safetensors: evaluate or predict with
/// it directly) plus <c>optimizer.safetensors</c> (SGD velocities), <c>state.json</c> and the run's <c>plan.json</c>. A checkpoint is assembled in
/// a hidden folder and renamed into place, so a crash never leaves a partial checkpoint where a resume would find it;
/// <paramref name="beforeCommit"/> may refuse the save, before it starts and again before the rename, by throwing. The newest <c>keep</c> are kept.
/// </summary>
public sealed partial class CheckpointStore(string outputDirectory, int keep, int attempt = 0, Action? beforeCommit = null)
{
    public const string OptimizerFileName = "optimizer.safetensors";
    public const string StateFileName = "state.json";
    public const string PlanFileName = "plan.json";
    private const string Prefix = "step-";

    public string Directory { get; } = Path.Combine(outputDirectory, "checkpoints");

    [GeneratedRegex(@"^step-(?<step>[0-9]{1,18})(-a(?<attempt>[0-9]{1,9}))?$")]
    private static partial Regex CheckpointName();

    public string Save(SqueezeNextNetwork network, TrainingPlan plan, SgdMomentum optimizer, TrainingState state)
    {
        beforeCommit?.Invoke();
        System.IO.Directory.CreateDirectory(Directory);
        var name = Prefix + state.Step.ToString("D8", CultureInfo.InvariantCulture) + (attempt > 0 ? $"-a{attempt}" : "");
        var final = Path.Combine(Directory, name);
        var partial = Path.Combine(Directory, $".{name}.{Guid.NewGuid():N}.partial");
        try
        {
            ModelArtifact.Save(partial, network, plan.Configuration, plan.ModelClasses, $"checkpoint at step {state.Step}");
            AtomicFile.WriteAllText(Path.Combine(partial, PlanFileName), plan.ToJson());
            SafetensorsFile.Write(Path.Combine(partial, OptimizerFileName), optimizer.StateTensors());
            AtomicFile.WriteAllText(Path.Combine(partial, StateFileName), JsonSerializer.Serialize(state, ConfigurationJson.Options));
            FaultPoints.Reach(FaultPoints.CheckpointWrite);
            beforeCommit?.Invoke();
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
            System.IO.Directory.Move(partial, final);
        }
        finally
        {
            if (System.IO.Directory.Exists(partial)) System.IO.Directory.Delete(partial, recursive: true);
        }
        Prune(state.Step);
        return final;
    }

    /// <summary>Complete checkpoints of every attempt, oldest first (by step, then attempt).</summary>
    public IReadOnlyList<(long Step, string Directory)> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.GetDirectories(Directory, Prefix + "*")
            .Select(d => (Match: CheckpointName().Match(Path.GetFileName(d)), Path: d))
            .Where(d => d.Match.Success && File.Exists(Path.Combine(d.Path, StateFileName)))
            .Select(d => (Step: long.Parse(d.Match.Groups["step"].Value, CultureInfo.InvariantCulture),
                Attempt: d.Match.Groups["attempt"].Success ? int.Parse(d.Match.Groups["attempt"].Value, CultureInfo.InvariantCulture) : 0,
                d.Path))
            .OrderBy(d => d.Step).ThenBy(d => d.Attempt)
            .Select(d => (d.Step, d.Path))
            .ToList();
    }

    public string? Latest() => List() is { Count: > 0 } all ? all[^1].Directory : null;

    /// <summary>The plan a checkpoint was made with, or null for one written before plans took their present form (only the changes it names are lost).</summary>
    private static TrainingPlan? ReadPlan(string path)
    {
        try
        {
            return TrainingPlan.FromJson(File.ReadAllText(path), path);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static LoadedCheckpoint Load(string directory, SqueezeNextConfiguration? expected = null)
    {
        var statePath = Path.Combine(directory, StateFileName);
        if (!File.Exists(statePath))
            throw new ArtifactException($"'{directory}' is not a training checkpoint: it has no {StateFileName}");
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath), ConfigurationJson.Options)
            ?? throw new ArtifactException($"'{statePath}' is empty");
        var planPath = Path.Combine(directory, PlanFileName);
        var plan = File.Exists(planPath) ? ReadPlan(planPath) : null;
        var model = ModelArtifact.Load(directory, expected);
        try
        {
            var (tensors, _) = SafetensorsFile.Read(Path.Combine(directory, OptimizerFileName));
            return new LoadedCheckpoint(model, state, plan, tensors.ToDictionary(t => t.Name, t => t.Tensor), directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private void Prune(long savedStep)
    {
        // Checkpoints ahead of the one just saved were left by an attempt that lost the run and can never be resumed.
        foreach (var (step, directory) in List().Where(c => c.Step > savedStep))
            System.IO.Directory.Delete(directory, recursive: true);
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
