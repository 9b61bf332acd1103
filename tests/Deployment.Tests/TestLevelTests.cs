using System.Text.RegularExpressions;

namespace SqueezeNext.Deployment.Tests;

/// <summary>
/// Every test class names its level, so that <c>scripts/test.sh --level L</c> runs exactly that level: unit (in memory),
/// in-process (real PostgreSQL or RabbitMQ from the test process), processes (the product's hosts or tools started as
/// processes), browser (a real Chromium), containers (the compose file run with Docker).
/// </summary>
[Trait("Level", "unit")]
public sealed partial class TestLevelTests
{
    public static readonly string[] Levels = ["unit", "in-process", "processes", "browser", "containers"];

    [GeneratedRegex(@"\[(Fact|Theory|SkippableFact|SkippableTheory)\b")]
    private static partial Regex TestMethod();

    [GeneratedRegex(@"(?m)^((?:\[[^\]\n]*\]\s*\n)*)public (?:sealed |abstract |static )?(?:partial )?class (\w+)")]
    private static partial Regex ClassWithAttributes();

    [GeneratedRegex(@"\[Trait\(""Level"", ""([^""]+)""\)\]")]
    private static partial Regex LevelTrait();

    [Fact]
    public void Every_test_class_names_one_known_level()
    {
        var testsRoot = Path.Combine(TestServices.RepositoryRoot, "tests");
        var files = Directory.EnumerateFiles(testsRoot, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Where(path => TestMethod().IsMatch(File.ReadAllText(path)))
            .ToList();
        Assert.True(files.Count > 50, $"only {files.Count} test files found under {testsRoot}");

        var problems = new List<string>();
        foreach (var file in files)
        {
            foreach (Match declaration in ClassWithAttributes().Matches(File.ReadAllText(file)))
            {
                var levels = LevelTrait().Matches(declaration.Groups[1].Value).Select(m => m.Groups[1].Value).ToList();
                if (levels.Count != 1 || !Levels.Contains(levels[0]))
                    problems.Add($"{Path.GetRelativePath(testsRoot, file)}: class {declaration.Groups[2].Value} has level [{string.Join(", ", levels)}]");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
