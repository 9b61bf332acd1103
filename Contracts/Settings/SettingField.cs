using System.Globalization;
using System.Reflection;

namespace SqueezeNext.Contracts.Settings;

/// <summary>
/// One run setting as <see cref="TrainingSettings"/> declares it: its JSON name, label, option, description, range,
/// whether it is a whole number, the recipe value it overrides (null: a run's own setting) and its default.
/// </summary>
public sealed record SettingField(
    string Name, string Label, string Option, string? ShortOption, string Description, double Minimum, double Maximum, bool WholeNumber, string? Recipe, double? Default,
    PropertyInfo Property)
{
    public bool Accepts(double value) =>
        double.IsFinite(value) && value >= Minimum && value <= Maximum && (!WholeNumber || Math.Floor(value) == value);

    /// <summary>Why <paramref name="value"/> is refused, naming the setting as <paramref name="path"/> (its name by default).</summary>
    public string Problem(double value, string? path = null) =>
        double.IsFinite(value) && value >= Minimum && value <= Maximum
            ? $"{path ?? Name}: {Format(value)} is not a whole number"
            : $"{path ?? Name}: {Format(value)} is outside {Format(Minimum)}..{Format(Maximum)}";

    /// <summary>The range as help text shows it.</summary>
    public string Range => $"{Format(Minimum)} to {Format(Maximum)}";

    public static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
