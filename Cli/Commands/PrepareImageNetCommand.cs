using SqueezeNext.Vision.Data;

namespace SqueezeNext.Cli.Commands;

/// <summary><c>sqnxt prepare-imagenet</c>: the ImageNet folder layout from the ILSVRC-2012 archives.</summary>
public static class PrepareImageNetCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source", "-s") { Description = $"Folder with {ImageNetPreparation.TrainArchive} and {ImageNetPreparation.ValidationArchive}.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Folder to create train/ and val/ in.", Required = true };
        var groundTruth = new Option<string?>("--ground-truth") { Description = "Validation ground-truth synsets, one per line (default: the ILSVRC-2012 list shipped with sqnxt)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("prepare-imagenet", "Build train/<synset>/ and val/<synset>/ from the ILSVRC-2012 archives (resumable).")
        {
            source, output, groundTruth, json,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            IReadOnlyList<string>? truth = null;
            if (parse.GetValue(groundTruth) is { } path)
            {
                if (!File.Exists(path)) throw new CliUsageException($"ground-truth file '{path}' does not exist");
                truth = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            }
            var progress = new ProgressLine();
            using var cancellation = new Cancellation();
            var report = new ImageNetPreparation((what, done, total) =>
                    progress.Update($"{ProgressLine.Bar((double)done / Math.Max(1, total))} {done:N0}/{total:N0} {what}", done == total))
                .Prepare(parse.GetValue(source)!, parse.GetValue(output)!, truth, cancellation.Token);
            progress.Finish();
            if (parse.GetValue(json))
            {
                CliJson.Write(report);
            }
            else
            {
                Console.Out.WriteLine($"train: {report.TrainSynsets:N0} synsets, {report.TrainImages:N0} images ({report.SynsetsSkippedAsDone:N0} synsets were already done)");
                Console.Out.WriteLine($"val: {report.ValidationImages:N0} images");
                foreach (var warning in report.Warnings) Console.Error.WriteLine($"warning: {warning}");
            }
            return 0;
        }));
        return command;
    }
}
