using System.ComponentModel.DataAnnotations;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>
/// The claim-check store (section "MessageData"): a folder every dashboard and worker mounts, where images and weights
/// over <see cref="InlineLimitBytes"/> are written and their messages carry only the address.
/// </summary>
public sealed class MessageDataOptions
{
    public const string Section = "MessageData";

    /// <summary>The shared folder; without one, every payload travels inside its message (up to the broker's message size limit).</summary>
    public string? Directory { get; set; }

    /// <summary>Payloads up to this size travel inside the message (base64 in its JSON).</summary>
    [Range(0, 64 * 1024 * 1024)]
    public int InlineLimitBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a stored payload is kept; the workers delete older ones.</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The largest stored payload a process reads back (the largest weights import, with room to spare).</summary>
    [Range(1, long.MaxValue)]
    public long MaxReadBytes { get; set; } = 512L * 1024 * 1024;
}
