using System.Globalization;

namespace SqueezeNext.Cli.Output;

/// <summary>A plain-text table with aligned columns; numeric columns are right-aligned.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> rows = [];
    private readonly bool[] rightAligned = new bool[headers.Length];

    public TextTable AlignRight(params int[] columns)
    {
        foreach (var column in columns) rightAligned[column] = true;
        return this;
    }

    public void Add(params object[] cells) =>
        rows.Add(cells.Select(cell => cell switch
        {
            long or int => string.Format(CultureInfo.InvariantCulture, "{0:N0}", cell),
            double d => d.ToString("G4", CultureInfo.InvariantCulture),
            _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
        }).ToArray());

    public void Write(TextWriter writer)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => rightAligned[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
        writer.WriteLine(Line(headers));
        writer.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows) writer.WriteLine(Line(row));
    }
}
