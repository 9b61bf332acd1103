using System.Text.Json;
using SqueezeNext.Testing;

namespace SqueezeNext.Cli.Tests;

/// <summary>
/// pytorchcv's weights from a terminal: a state dict written by PyTorch itself (tests/Vision.Tests/Pytorchcv, Debian's
/// python3-torch) is imported, predicts, evaluates, and exports back into a file PyTorch loads strictly.
/// </summary>
[Trait("Level", "processes")]
public sealed class PretrainedWeightsCommandTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Pytorchcv", "pytorchcv_reference.py");
    private readonly string root = Directory.CreateTempSubdirectory("sqnxt-cli-pretrained-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [SkippableFact]
    public void A_pytorch_state_dict_imports_predicts_and_exports_back_to_pytorch()
    {
        var made = RunPython($"\"{Script}\" sqnxt23v5_w1 \"{root}\"");
        Skip.If(made.ExitCode != 0 && made.Output.Contains("No module named 'torch'"), "python3-torch is not installed (scripts/test.sh installs it)");
        Assert.True(made.ExitCode == 0, made.Output);
        var model = Path.Combine(root, "model");

        var import = Sqnxt.Run("import", Path.Combine(root, "sqnxt23v5_w1.pth"), "--config", "sqnxt23v5_w1", "--out", model);
        Assert.True(import.ExitCode == 0, import.Error);
        Assert.Contains("imported sqnxt23v5_w1 (921,816 parameters, Torchvision pre-processing at 224×224)", import.Output);

        var predict = Sqnxt.Run("predict", "--model", model, "--json", Fixture("tabby_cat.jpg"), Fixture("coffee.png"));
        Assert.True(predict.ExitCode == 0, predict.Error);
        using (var predictions = JsonDocument.Parse(predict.Output))
            Assert.All(predictions.RootElement.EnumerateArray(), image => Assert.Equal(5, image.GetProperty("predictions").GetArrayLength()));

        var exported = Path.Combine(root, "exported.pth");
        Assert.Equal(0, Sqnxt.Run("export", "--model", model, "--out", exported).ExitCode);
        var check = RunPython($"\"{Script}\" sqnxt23v5_w1 \"{root}\" --check \"{exported}\"");
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("loads strictly", check.Output);
    }

    [Fact]
    public void A_state_dict_without_a_configuration_is_refused_with_the_names_to_choose_from()
    {
        var file = Path.Combine(root, "weights.pth");
        File.WriteAllBytes(file, [1, 2, 3]);

        var import = Sqnxt.Run("import", file, "--out", Path.Combine(root, "m"));

        Assert.Equal(1, import.ExitCode);
        Assert.Contains("a PyTorch state dict carries no configuration", import.Error);
        Assert.Contains("sqnxt23_w1", import.Error);
        Assert.False(Directory.Exists(Path.Combine(root, "m")));
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static (int ExitCode, string Output) RunPython(string arguments) =>
        File.Exists(Python) ? ExternalProcess.Run(Python, arguments) : (-1, "No module named 'torch' (no python3)");
}
