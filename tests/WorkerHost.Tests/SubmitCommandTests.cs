using System.Diagnostics;
using SqueezeNext.Testing;

namespace SqueezeNext.WorkerHost.Tests;

/// <summary><c>sqnxt submit</c> against a real worker through the real broker.</summary>
[Collection(ServingWorkerCollection.Name)]
public sealed class SubmitCommandTests(ServingWorker serving)
{
    private (int ExitCode, string Output, string Error) Sqnxt(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(SqnxtPath());
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--rabbit-host");
        start.ArgumentList.Add(TestServices.RabbitHost);
        start.ArgumentList.Add("--rabbit-port");
        start.ArgumentList.Add(TestServices.RabbitPort.ToString());
        start.ArgumentList.Add("--rabbit-vhost");
        start.ArgumentList.Add(serving.System.VirtualHost);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "sqnxt did not finish");
        return (process.ExitCode, output.Result, error.Result);
    }

    private static string SqnxtPath() => Path.Combine(TestServices.ProjectOutput("Cli"), "sqnxt.dll");

    [Fact]
    public void Submit_classify_waits_for_the_answer_and_prints_the_top_five()
    {
        var (exit, output, error) = Sqnxt("submit", "classify", TestServices.Fixture("coffee.png"));

        Assert.True(exit == 0, error);
        Assert.Contains("imagenet v1", output);
        Assert.Equal(5, output.Split('\n').Count(line => line.TrimStart().Length > 2 && char.IsDigit(line.TrimStart()[0]) && line.TrimStart()[1] == '.'));
    }

    [Fact]
    public void Submit_reports_a_rejection_in_one_line()
    {
        var train = Sqnxt("submit", "train", "--config", "v_1_0_SqNxt_23", "--dataset", "../../etc");
        var classify = Sqnxt("submit", "classify", TestServices.Fixture("README.md"));

        Assert.Equal(1, train.ExitCode);
        Assert.StartsWith("sqnxt: error: rejected: dataset name '../../etc' is not a folder name under the data root", train.Error);
        Assert.Single(train.Error.TrimEnd().Split('\n'));
        Assert.Equal(1, classify.ExitCode);
        Assert.Contains("is not an image in a supported format", classify.Error);
    }
}
