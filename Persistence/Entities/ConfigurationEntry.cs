namespace SqueezeNext.Persistence.Entities;

/// <summary>A named configuration as the workers know it (published at worker start), for the dashboard's forms.</summary>
public sealed class ConfigurationEntry
{
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string Source { get; set; } = "";

    /// <summary>The complete configuration (jsonb): architecture and training recipe with their defaults.</summary>
    public string Json { get; set; } = "{}";

    public long Parameters { get; set; }
    public long Macs { get; set; }
    public int Position { get; set; }
}
