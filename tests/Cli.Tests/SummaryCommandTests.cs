using System.Text.Json;

namespace SqueezeNext.Cli.Tests;

[Trait("Level", "processes")]
public class SummaryCommandTests
{
    [Theory]
    [InlineData("v_1_0_SqNxt_23", 717_280, 277.999808)]
    [InlineData("v_1_0_SqNxt_23_mod", 717_280, 277.999808)]
    [InlineData("1.0-SqNxt-23", 717_280, 277.999808)]
    [InlineData("v_1_0_G_SqNxt_23", 543_072, 224.19)]
    [InlineData("v_1_0_SqNxt_23_v5", 909_024, 223.32)]
    [InlineData("v_2_0_SqNxt_23", 2_357_504, 729.68)]
    [InlineData("v_2_0_SqNxt_23_v5", 3_132_672, 678.07)]
    [InlineData("1.0-G-SqNxt-23", 543_072, 224.19)]
    [InlineData("1.0-SqNxt-23v5", 930_016, 224.92)]
    [InlineData("2.0-SqNxt-23", 2_361_728, 742.07)]
    [InlineData("2.0-SqNxt-23v5", 3_222_912, 702.59)]
    [InlineData("2.0-SqNxt-44", 4_428_096, 1_342.86)]
    [InlineData("1.5-SqNxt-23", 1_406_384, 472.27)]
    [InlineData("1.5-SqNxt-23v5", 1_841_456, 418.87)]
    public void Json_summary_matches_the_published_table_for_every_variant(string config, long parameters, double megaMacs)
    {
        var result = Sqnxt.Run("summary", "--config", config, "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal(config, json.RootElement.GetProperty("config").GetString());
        Assert.Equal(parameters, json.RootElement.GetProperty("parameters").GetInt64());
        Assert.InRange(json.RootElement.GetProperty("macs").GetInt64() / 1e6, megaMacs - 0.01, megaMacs + 0.01);
        var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(parameters, layers.Sum(l => l.GetProperty("parameters").GetInt64()));
    }

    [Fact]
    public void Table_and_csv_show_every_layer_with_totals()
    {
        var csv = Path.Combine(Path.GetTempPath(), $"sqnxt-summary-{Guid.NewGuid():N}.csv");
        try
        {
            var result = Sqnxt.Run("summary", "--config", "1.0-SqNxt-23", "--input-size", "227", "--csv", csv);

            Assert.Equal(0, result.ExitCode);
            Assert.Contains("stage1.block1.sepA", result.Output);
            Assert.Contains("111×111", result.Output);
            Assert.Contains("trainable parameters 717,280", result.Output);
            Assert.Contains("MACs 277,999,808 (278.00 M)", result.Output);
            var lines = File.ReadAllLines(csv);
            Assert.StartsWith("name,type,kernel,stride,groups", lines[0]);
            Assert.Equal("total,,,,,,,,,717280,277999808", lines[^1]);
            Assert.Equal(1 + 114 + 1, lines.Length);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Fact]
    public void A_smaller_input_size_scales_the_macs_but_not_the_parameters()
    {
        var result = Sqnxt.Run("summary", "--config", "v_1_0_SqNxt_23", "--input-size", "32", "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal(717_280, json.RootElement.GetProperty("parameters").GetInt64());
        Assert.True(json.RootElement.GetProperty("macs").GetInt64() < 10_000_000);
    }

    [Fact]
    public void A_user_configuration_file_is_summarised()
    {
        var file = Path.Combine(Path.GetTempPath(), $"sqnxt-user-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "base": "v_1_0_SqNxt_23", "name": "ten-classes", "architecture": { "numClasses": 10 } }""");
        try
        {
            var result = Sqnxt.Run("summary", "--config", file, "--json");

            Assert.Equal(0, result.ExitCode);
            using var json = JsonDocument.Parse(result.Output);
            Assert.Equal("ten-classes", json.RootElement.GetProperty("config").GetString());
            Assert.Equal(717_280 - 128 * 990, json.RootElement.GetProperty("parameters").GetInt64());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("unknown configuration 'v_7_SqNxt'", "summary", "--config", "v_7_SqNxt")]
    [InlineData("does not exist", "summary", "--config", "/nowhere/mine.json")]
    [InlineData("--input-size 8 is outside 16..1024", "summary", "--config", "v_1_0_SqNxt_23", "--input-size", "8")]
    public void Errors_are_one_clear_line_and_a_non_zero_exit(string expected, params string[] args) =>
        Sqnxt.FailsWithOneLine(expected, args);

    [Fact]
    public void An_invalid_user_file_names_the_field()
    {
        var file = Path.Combine(Path.GetTempPath(), $"sqnxt-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "base": "v_1_0_SqNxt_23", "name": "bad", "training": { "epochz": 3 } }""");
        try
        {
            var result = Sqnxt.Run("summary", "--config", file);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("training.epochz: unknown field (did you mean 'epochs'?)", result.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
