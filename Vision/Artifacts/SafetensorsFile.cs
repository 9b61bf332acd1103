using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace SqueezeNext.Vision.Artifacts;

/// <summary>A tensor's entry in a safetensors header: dtype, shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, optional string metadata under "__metadata__", then the raw little-endian data), so
/// weights move to and from PyTorch (<c>safetensors.torch.load_file</c>) without pickle.
/// </summary>
public static class SafetensorsFile
{
    private const long MaxHeaderBytes = 100 * 1024 * 1024;

    private static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F64"] = ScalarType.Float64,
        ["F32"] = ScalarType.Float32,
        ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64,
        ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16,
        ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte,
        ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Writes the tensors in the given order; the file appears whole or not at all.</summary>
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata) meta[key] = value;
            header["__metadata__"] = meta;
        }

        var payload = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            // detach() and cpu() each make a handle of their own; the scope releases them with the contiguous copy.
            using var scope = NewDisposeScope();
            var cpu = tensor.detach().cpu().contiguous();
            var bytes = cpu.bytes.ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(cpu.dtype, name),
                ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            payload.Add(bytes);
            offset += bytes.Length;
        }

        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The spec lets the header be padded with spaces; 8-byte alignment keeps the data aligned for memory mapping.
        int padding = (8 - headerBytes.Length % 8) % 8;
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(headerBytes.Length + padding));
            stream.Write(length);
            stream.Write(headerBytes);
            for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
            foreach (var chunk in payload) stream.Write(chunk);
        });
    }

    /// <summary>Reads the header of a safetensors file, checking that every range lies inside the file.</summary>
    public static (IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart) ReadHeader(string path)
    {
        using var stream = OpenForRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>Reads every tensor of a safetensors file onto the CPU, in file order, with its metadata.</summary>
    public static (List<(string Name, Tensor Tensor)> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        using var stream = OpenForRead(path);
        var (entries, metadata, dataStart) = ReadHeader(stream, path);
        var tensors = new List<(string, Tensor)>();
        try
        {
            foreach (var entry in entries.OrderBy(e => e.Begin))
            {
                var data = new byte[entry.End - entry.Begin];
                stream.Position = dataStart + entry.Begin;
                stream.ReadExactly(data);
                var tensor = empty(entry.Shape, DTypes[entry.DType]);
                if (data.Length > 0) tensor.bytes = data;
                tensors.Add((entry.Name, tensor));
            }
        }
        catch
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
            throw;
        }
        return (tensors, metadata);
    }

    private static FileStream OpenForRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArtifactException($"cannot open '{path}': {e.Message}");
        }
    }

    private static (IReadOnlyList<SafetensorsEntry>, IReadOnlyDictionary<string, string>, long) ReadHeader(FileStream stream, string path)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Length < 8 || stream.Read(lengthBytes) != 8)
            throw new ArtifactException($"'{path}' is not a safetensors file: it is shorter than its 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength == 0 || headerLength > MaxHeaderBytes || (long)headerLength > stream.Length - 8)
            throw new ArtifactException($"'{path}' is not a safetensors file: its header length {headerLength} does not fit the file ({stream.Length} bytes)");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(headerBytes) as JsonObject ?? throw new JsonException("the header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new ArtifactException($"'{path}' is not a safetensors file: its header is not valid JSON ({e.Message})");
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = stream.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var entries = new List<SafetensorsEntry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                {
                    foreach (var (key, value) in meta)
                        metadata[key] = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "";
                }
                continue;
            }
            entries.Add(ParseEntry(path, name, node, dataLength));
        }
        return (entries, metadata, dataStart);
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonNode? node, long dataLength)
    {
        try
        {
            var dtype = node!["dtype"]!.GetValue<string>();
            if (!DTypes.TryGetValue(dtype, out var scalarType))
                throw new ArtifactException($"'{path}': tensor '{name}' has dtype {dtype}, which is not supported ({string.Join(", ", DTypes.Keys)})");
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            if (offsets.Length != 2 || shape.Any(d => d < 0))
                throw new ArtifactException($"'{path}': tensor '{name}' has a malformed shape or data_offsets");
            long elements = shape.Aggregate(1L, (a, b) => checked(a * b));
            long expected = checked(elements * ElementSize(scalarType));
            if (offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength || offsets[1] - offsets[0] != expected)
                throw new ArtifactException(
                    $"'{path}': tensor '{name}' claims bytes {offsets[0]}..{offsets[1]} for {expected} bytes of data in a {dataLength}-byte data section (truncated or corrupt file)");
            return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new ArtifactException($"'{path}': the header entry of tensor '{name}' is malformed");
        }
    }

    private static string DTypeName(ScalarType type, string name) =>
        DTypes.FirstOrDefault(pair => pair.Value == type).Key
        ?? throw new ArtifactException($"tensor '{name}' has dtype {type}, which safetensors cannot store");

    private static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
