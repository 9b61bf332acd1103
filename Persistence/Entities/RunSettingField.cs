namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// One training-run setting as the workers define it (published at worker start, like the configurations): its
/// range and default, for the dashboard's form. The engine's run settings are the source.
/// </summary>
public sealed class RunSettingField
{
    /// <summary>The setting's JSON name (<c>batchSize</c>), as in the command and the stored plan.</summary>
    public string Name { get; set; } = "";

    public string Label { get; set; } = "";
    public string Description { get; set; } = "";
    public double Minimum { get; set; }
    public double Maximum { get; set; }
    public bool WholeNumber { get; set; }

    /// <summary>The field of a configuration's training recipe the default comes from, or null.</summary>
    public string? RecipeName { get; set; }

    /// <summary>The default when no recipe field gives one; null: unset.</summary>
    public double? DefaultValue { get; set; }

    public int Position { get; set; }
}
