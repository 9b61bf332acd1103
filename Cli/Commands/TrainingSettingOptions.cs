using SqueezeNext.Contracts;
using SqueezeNext.Contracts.Settings;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// The training settings as options of <c>sqnxt train</c>, <c>sqnxt submit train</c> and <c>sqnxt bus train</c>: one option
/// per field of <see cref="TrainingSettings"/>, named, described and ranged by it; the planner validates what they read.
/// </summary>
public sealed class TrainingSettingOptions
{
    private readonly IReadOnlyList<(SettingField Field, Option<double?> Option)> options =
        TrainingSettings.Fields.Select(field => (field, new Option<double?>(field.Option, field.ShortOption is { } alias ? [alias] : [])
        {
            Description = $"{field.Description} Range {field.Range}.", HelpName = field.WholeNumber ? "N" : "X",
        })).ToList();

    public void AddTo(Command command)
    {
        foreach (var (_, option) in options) command.Options.Add(option);
    }

    /// <summary>The settings given; those left out stay unset, for the configuration's recipe and the settings' defaults.</summary>
    public TrainingSettings Read(ParseResult parse) =>
        options.Aggregate(new TrainingSettings(), (settings, o) => parse.GetValue(o.Option) is { } value ? settings.With(o.Field, value) : settings);
}
