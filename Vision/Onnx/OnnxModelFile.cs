using Google.Protobuf;
using Onnx;
using SqueezeNext.Vision.Artifacts;

namespace SqueezeNext.Vision.Onnx;

/// <summary>
/// A model directory's ONNX graph, kept beside its weights as <see cref="FileName"/>: made (and checked) on first use,
/// read back afterwards, and made again when the weights' checksum no longer matches the one in its metadata.
/// </summary>
public static class OnnxModelFile
{
    public const string FileName = "model.onnx";

    /// <summary>The graph of <paramref name="model"/>, loaded from <paramref name="directory"/>.</summary>
    public static byte[] For(LoadedModel model, string directory)
    {
        var path = Path.Combine(directory, FileName);
        var checksum = model.Manifest.WeightsSha256;
        if (checksum.Length > 0 && File.Exists(path))
        {
            var cached = File.ReadAllBytes(path);
            if (ChecksumOf(cached) == checksum) return cached;
        }
        var (built, _) = OnnxExport.BuildChecked(model);
        try
        {
            AtomicFile.Write(path, stream => stream.Write(built));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only model folder: the graph serves from memory, and is made again at the next load.
        }
        return built;
    }

    /// <summary>The weights checksum in a serialised graph's metadata; null when it has none or is not an ONNX model.</summary>
    public static string? ChecksumOf(byte[] onnxModel)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(onnxModel).MetadataProps.FirstOrDefault(p => p.Key == OnnxExport.WeightsChecksumMetadataKey)?.Value;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }
}
