using System.ComponentModel.DataAnnotations;

namespace SqueezeNext.Contracts.Settings;

/// <summary>
/// Declares a property of <see cref="TrainingSettings"/> as a run setting: its range (a <see cref="RangeAttribute"/>,
/// so the API's validation and its OpenAPI document read the same bounds), its label in forms, its command-line
/// option, the recipe value it overrides and its default. Its description is the property's
/// <see cref="System.ComponentModel.DescriptionAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(double minimum, double maximum) : RangeAttribute(minimum, maximum)
{
    /// <summary>How forms label the setting.</summary>
    public required string Label { get; init; }

    /// <summary>The long option of <c>sqnxt train</c>, <c>submit train</c> and <c>bus train</c>.</summary>
    public required string Option { get; init; }

    /// <summary>A one-letter alias of <see cref="Option"/>, or null.</summary>
    public string? ShortOption { get; init; }

    /// <summary>The JSON name of the configuration's recipe value (<c>training.X</c>) this setting overrides; null for a run's own setting.</summary>
    public string? Recipe { get; init; }

    /// <summary>The value of a run's own setting when it is left out; NaN: none (the setting stays unset).</summary>
    public double Default { get; init; } = double.NaN;

    /// <summary>Refuses with the message every entry point gives for this setting.</summary>
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is null) return ValidationResult.Success;
        var field = TrainingSettings.FieldOf(validationContext.MemberName ?? validationContext.DisplayName);
        double number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        return field.Accepts(number) ? ValidationResult.Success : new ValidationResult(field.Problem(number), [validationContext.MemberName ?? field.Name]);
    }
}
