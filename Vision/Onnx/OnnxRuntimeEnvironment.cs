using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace SqueezeNext.Vision.Onnx;

/// <summary>
/// ONNX Runtime's process-wide environment, made without its telemetry: since 1.29 the Linux packages write a device
/// id under ~/.cache/Microsoft/DeveloperTools and upload usage events unless ORT_DISABLE_TELEMETRY is set when the
/// environment is created. A serving product does neither (docs/model-artifact.md). Touch <see cref="Ready"/> before
/// creating any ONNX Runtime object.
/// </summary>
public static class OnnxRuntimeEnvironment
{
    private static readonly Lazy<OrtEnv> Environment = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    public static OrtEnv Ready => Environment.Value;

    private static OrtEnv Create()
    {
        // The native getenv does not see .NET's Environment.SetEnvironmentVariable on Unix, so libc's setenv it is.
        if (!OperatingSystem.IsWindows()) _ = setenv("ORT_DISABLE_TELEMETRY", "1", 1);
        var environment = OrtEnv.Instance();
        environment.DisableTelemetryEvents();
        return environment;
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
