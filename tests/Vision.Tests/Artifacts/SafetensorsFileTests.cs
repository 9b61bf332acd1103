namespace SqueezeNext.Vision.Tests.Artifacts;

/// <summary>The safetensors format: what is written, and what a damaged file is refused with.</summary>
[Trait("Level", "unit")]
public sealed class SafetensorsFileTests : IDisposable
{
    private readonly TemporaryDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Writing_leaves_no_tensor_behind_and_reads_back_the_same_values()
    {
        using var weight = randn(4, 3, 3, 3).permute(0, 2, 3, 1);
        using var counts = arange(5L);
        var path = Path.Combine(temp.Path, "weights.safetensors");

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        SafetensorsFile.Write(path, [("weight", weight), ("counts", counts)]);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(before, after);
        var (tensors, _) = SafetensorsFile.Read(path);
        try
        {
            Assert.True(tensors.Single(t => t.Name == "weight").Tensor.allclose(weight, 0, 0));
            Assert.True(tensors.Single(t => t.Name == "counts").Tensor.allclose(counts, 0, 0));
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }

    [Theory]
    [InlineData(new byte[0], "shorter than its 8-byte header length")]
    [InlineData(new byte[] { 255, 255, 255, 255, 0, 0, 0, 0, (byte)'{' }, "does not fit the file")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'[', (byte)'x' }, "header is not valid JSON")]
    public void Malformed_safetensors_files_are_rejected(byte[] content, string expected)
    {
        var file = Path.Combine(temp.Path, "bad.safetensors");
        File.WriteAllBytes(file, content);

        var error = Assert.Throws<ArtifactException>(() => SafetensorsFile.Read(file));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_truncated_safetensors_file_is_rejected_naming_the_tensor()
    {
        var file = Path.Combine(temp.Path, "truncated.safetensors");
        using (var weights = ones(100))
            SafetensorsFile.Write(file, [("w", weights)]);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^40]);

        var error = Assert.Throws<ArtifactException>(() => SafetensorsFile.Read(file));

        Assert.Contains("tensor 'w'", error.Message);
        Assert.Contains("truncated or corrupt", error.Message);
    }

    [Fact]
    public void Safetensors_header_follows_the_format_so_other_readers_accept_it()
    {
        var file = Path.Combine(temp.Path, "format.safetensors");
        using (var a = arange(6, dtype: ScalarType.Float32).reshape(2, 3))
        using (var b = tensor(new long[] { 7 }))
            SafetensorsFile.Write(file, [("a", a), ("b", b)], new Dictionary<string, string> { ["k"] = "v" });

        var bytes = File.ReadAllBytes(file);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!;

        Assert.Equal(0, (8 + headerLength) % 8);
        Assert.Equal("F32", (string?)header["a"]!["dtype"]);
        Assert.Equal("[2,3]", header["a"]!["shape"]!.ToJsonString());
        Assert.Equal("[0,24]", header["a"]!["data_offsets"]!.ToJsonString());
        Assert.Equal("I64", (string?)header["b"]!["dtype"]);
        Assert.Equal("[24,32]", header["b"]!["data_offsets"]!.ToJsonString());
        Assert.Equal("v", (string?)header["__metadata__"]!["k"]);
        Assert.Equal(8 + headerLength + 32, bytes.Length);
        Assert.Equal(5f, BitConverter.ToSingle(bytes, (int)(8 + headerLength + 20)));
    }
}
