namespace SqueezeNext.Persistence.Entities;

/// <summary>
/// Every command a worker handled, by its client-chosen id: what makes a redelivered or duplicated command a no-op,
/// and where rejected commands are recorded with their reason.
/// </summary>
public sealed class ProcessedCommand
{
    public Guid Id { get; set; }
    public string Type { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>"accepted" or "rejected".</summary>
    public string Outcome { get; set; } = "";

    public string? Reason { get; set; }

    /// <summary>The command as received (jsonb).</summary>
    public string PayloadJson { get; set; } = "{}";
}
