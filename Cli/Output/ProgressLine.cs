using System.Diagnostics;

namespace SqueezeNext.Cli.Output;

/// <summary>
/// A live status line on stderr: redrawn in place on a terminal, printed at most every few seconds when stderr is
/// a file or pipe (so logs stay readable). Other messages are printed on their own lines above it.
/// </summary>
public sealed class ProgressLine
{
    private static readonly TimeSpan LoggedInterval = TimeSpan.FromSeconds(5);
    private readonly bool interactive = !Console.IsErrorRedirected;
    private readonly Stopwatch sinceLast = Stopwatch.StartNew();
    private readonly object gate = new();
    private int width;
    private bool first = true;

    public void Update(string text, bool force = false)
    {
        lock (gate)
        {
            if (interactive)
            {
                if (!force && !first && sinceLast.ElapsedMilliseconds < 100) return;
                Console.Error.Write("\r" + text.PadRight(width));
                width = text.Length;
            }
            else
            {
                if (!force && !first && sinceLast.Elapsed < LoggedInterval) return;
                Console.Error.WriteLine(text);
            }
            first = false;
            sinceLast.Restart();
        }
    }

    public void WriteLine(string message)
    {
        lock (gate)
        {
            if (interactive && width > 0)
            {
                Console.Error.Write("\r" + new string(' ', width) + "\r");
                width = 0;
            }
            Console.Error.WriteLine(message);
        }
    }

    public void Finish()
    {
        lock (gate)
        {
            if (interactive && width > 0) Console.Error.WriteLine();
            width = 0;
        }
    }

    public static string Bar(double fraction, int cells = 24)
    {
        int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * cells);
        return "[" + new string('#', filled) + new string('.', cells - filled) + "]";
    }

    public static string Duration(TimeSpan? span) =>
        span is not { } s ? "--:--:--" : s.TotalHours >= 100 ? $"{(int)s.TotalHours}h" : $"{(int)s.TotalHours:00}:{s.Minutes:00}:{s.Seconds:00}";
}
