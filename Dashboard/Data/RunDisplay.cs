using Radzen;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Dashboard.Data;

/// <summary>Which x axis a curve is drawn against.</summary>
public enum CurveAxis
{
    Step,
    Epoch,
    Time,
}

/// <summary>A point as a chart draws it.</summary>
public sealed record ChartPoint(double X, double Y);

/// <summary>How runs and curves are shown: status badges, progress, durations, chart coordinates.</summary>
public static class RunDisplay
{
    /// <summary>A running run without a heartbeat for this long is shown as stale (its worker is probably gone).</summary>
    public static readonly TimeSpan StaleAfter = Persistence.Runs.RunLifecycle.DefaultStaleAfter;

    public static (string Text, BadgeStyle Style) Status(Run run, DateTimeOffset now) => run.Status switch
    {
        RunStatus.Running when run.HeartbeatAt is { } beat && now - beat > StaleAfter => ("stale", BadgeStyle.Warning),
        RunStatus.Queued => ("queued", BadgeStyle.Info),
        RunStatus.Running => ("running", BadgeStyle.Primary),
        RunStatus.Completed => ("completed", BadgeStyle.Success),
        RunStatus.Failed => ("failed", BadgeStyle.Danger),
        RunStatus.Cancelled => ("cancelled", BadgeStyle.Light),
        _ => (run.Status.ToString().ToLowerInvariant(), BadgeStyle.Base),
    };

    /// <summary>Progress in percent (0..100), or null when the run's length is not known yet.</summary>
    public static double? Progress(Run run) =>
        run.Status == RunStatus.Completed ? 100 : run.TotalSteps > 0 ? Math.Clamp(100.0 * run.Step / run.TotalSteps, 0, 100) : null;

    public static string Duration(Run run, DateTimeOffset now)
    {
        if (run.StartedAt is not { } started) return "";
        var span = (run.FinishedAt ?? now) - started;
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes:00}m" : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds:00}s" : $"{span.Seconds}s";
    }

    public static string Eta(Run run) =>
        run.Status == RunStatus.Running && run.EtaSeconds is { } eta && double.IsFinite(eta)
            ? TimeSpan.FromSeconds(eta) is var t && t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:00}m left" : $"{t.Minutes}m {t.Seconds:00}s left"
            : "";

    public static string Percent(double? value) => value is { } v ? (v * 100).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + " %" : "–";

    /// <summary>Chart coordinates of a curve against the chosen axis (time in minutes since the run started).</summary>
    public static IReadOnlyList<ChartPoint> Project(IReadOnlyList<CurvePoint> points, CurveAxis axis) =>
        points.Select(p => new ChartPoint(axis switch
        {
            CurveAxis.Epoch => p.Epoch,
            CurveAxis.Time => p.Seconds / 60.0,
            _ => p.Step,
        }, p.Value)).Where(p => double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();

    public static string AxisTitle(CurveAxis axis) => axis switch
    {
        CurveAxis.Epoch => "epoch",
        CurveAxis.Time => "minutes",
        _ => "step",
    };
}
