using System.Text.Json;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.ServiceDefaults.Datasets;
using SqueezeNext.Vision.Data.Import;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.WorkerHost.Datasets;

/// <summary>
/// An import run's attempt, on its own thread: the archive or folder its plan names is imported into a staging folder
/// of this attempt (<c>.staging/&lt;run&gt;-a&lt;attempt&gt;</c>), then renamed into <c>.datasets/&lt;name&gt;/</c>, so no
/// half-written version is ever visible and an attempt that follows a crash starts clean. An upload is deleted once
/// its import has an answer (the dataset, or a refusal that trying again would not change).
/// </summary>
public sealed class DatasetImportJob(DataRoot dataRoot, IOptions<WorkerOptions> options, ILogger<DatasetImportJob> logger)
{
    private DataVolume Volume => dataRoot.Volume;

    public JobOutcome Run(Run run, RunLease lease, ITrainingObserver observer, CancellationToken cancellationToken)
    {
        var plan = DatasetImportPlan.FromJson(run.PlanJson, $"run {run.Id}");
        var prefix = $"{run.Id:N}-a";
        var staging = Path.Combine(Volume.StagingFolder, prefix + lease.Attempt);
        var final = Path.Combine(Volume.VersionsFolder(run.Dataset), prefix + lease.Attempt);
        RemoveEarlierAttempts(Volume.StagingFolder, prefix);
        RemoveEarlierAttempts(Volume.VersionsFolder(run.Dataset), prefix);

        var settings = options.Value;
        var importOptions = settings.Datasets.ToImportOptions(settings.Classification, settings.LoaderThreads) with
        {
            ValidationFraction = plan.ValidationFraction,
            Seed = plan.Seed,
        };
        var started = DateTimeOffset.UtcNow;
        var importer = new DatasetImporter(importOptions, progress =>
        {
            var elapsed = DateTimeOffset.UtcNow - started;
            observer.OnProgress(new TrainingProgress(progress.Done, Math.Max(progress.Total, progress.Done), 0, double.NaN, 0,
                progress.Done / Math.Max(1e-3, elapsed.TotalSeconds), elapsed, null));
        });

        ImportedDataset dataset;
        try
        {
            dataset = plan.Source switch
            {
                "upload" => importer.ImportArchive(Volume.UploadFile(plan.Path), staging, cancellationToken),
                "file" => importer.ImportArchive(Incoming(plan.Path), staging, cancellationToken),
                "folder" => importer.ImportFolder(Incoming(plan.Path), staging, cancellationToken),
                "imagenet" => importer.ImportImageNet(Incoming(plan.Path), staging, cancellationToken),
                _ => throw new InvalidDatasetNameException($"unknown import source '{plan.Source}'"),
            };
        }
        catch (ImportRefusedException refusal)
        {
            DeleteQuietly(staging);
            DeleteUpload(plan);
            logger.LogWarning("Import {RunId} of {Dataset} refused: {Reason}", run.Id, run.Dataset, refusal.Message);
            throw;
        }
        catch
        {
            DeleteQuietly(staging);
            throw;
        }

        if (!observer.MayWriteOutput) throw new OutputFencedException($"attempt {lease.Attempt} of import {run.Id} no longer holds its run");
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        Directory.Move(DatasetImporter.DatasetFolder(staging), final);
        DeleteQuietly(staging);
        DeleteUpload(plan);
        observer.OnEvent(new TrainingEvent(TrainingEventKind.Completed,
            $"imported {dataset.TrainImages:N0} training and {dataset.ValidationImages:N0} validation images in {dataset.Classes.Count} classes; " +
            $"{dataset.Report.Skipped.Count:N0} files left out; digest {dataset.Digest[..12]}", DateTimeOffset.UtcNow));
        return new JobOutcome.Completed(null, null, null, null, new ImportEnding(
            dataset.Digest, dataset.Layout, JsonSerializer.Serialize(dataset.Classes, JobPlanner.Json), dataset.Classes.Count, dataset.TrainImages,
            dataset.ValidationImages, dataset.Bytes, JsonSerializer.Serialize(dataset.Report, JobPlanner.Json), Volume.Relative(final)));
    }

    private string Incoming(string relative)
    {
        var (path, problem) = Volume.ResolveIncoming(relative);
        return path ?? throw new InvalidDatasetNameException(problem!);
    }

    private void DeleteUpload(DatasetImportPlan plan)
    {
        if (plan.Source != "upload") return;
        foreach (var file in new[] { Volume.UploadFile(plan.Path), Volume.UploadInfoFile(plan.Path) })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException e)
            {
                logger.LogWarning("Could not delete the imported upload {File}: {Message}", file, e.Message);
            }
        }
    }

    private static void RemoveEarlierAttempts(string folder, string prefix)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var earlier in Directory.GetDirectories(folder, prefix + "*")) DeleteQuietly(earlier);
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
