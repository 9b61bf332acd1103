namespace SqueezeNext.Vision.Configuration;

/// <summary>A named, complete description of a model and how to train it: what a run records and a model carries.</summary>
public sealed record SqueezeNextConfiguration
{
    /// <summary>Identifier users select with <c>--config</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One line on what the configuration is.</summary>
    public string Description { get; init; } = "";

    /// <summary>Where the configuration comes from (a reference implementation, or the configuration a user file extends).</summary>
    public string Source { get; init; } = "";

    public SqueezeNextArchitecture Architecture { get; init; } = new();

    public TrainingRecipe Training { get; init; } = new();

    /// <summary>All problems with this configuration, each naming its field.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 100 || Name.Any(c => char.IsControl(c) || c is '/' or '\\'))
            problems.Add("name: must be 1 to 100 characters without slashes or control characters");
        problems.AddRange(Architecture.Validate());
        problems.AddRange(Training.Validate());
        return problems;
    }

    /// <summary>Throws <see cref="InvalidConfigurationException"/> naming every invalid field.</summary>
    public SqueezeNextConfiguration EnsureValid()
    {
        var problems = Validate();
        if (problems.Count > 0) throw new InvalidConfigurationException(problems);
        return this;
    }
}
