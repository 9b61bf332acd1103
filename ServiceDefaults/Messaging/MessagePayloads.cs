using MassTransit;
using Microsoft.Extensions.Options;

namespace SqueezeNext.ServiceDefaults.Messaging;

/// <summary>
/// Puts a payload into a message: inside it when small, otherwise into the shared claim-check store with only the
/// address in the message. Every sender of images and weights goes through here, so none of them can exceed the
/// broker's message size limit with a payload the store could have carried.
/// </summary>
public sealed class MessagePayloads(IOptions<MessageDataOptions> options, ConfinedFileMessageDataRepository? store = null)
{
    public bool HasStore => store is not null;

    /// <summary>The payload for a message: (bytes, null) inline, or (empty, reference) through the store.</summary>
    public async Task<(byte[] Inline, MessageData<byte[]>? Reference)> PackAsync(byte[] bytes, CancellationToken cancellationToken = default)
    {
        if (store is null || bytes.Length <= options.Value.InlineLimitBytes) return (bytes, null);
        return ([], await store.PutBytes(bytes, options.Value.TimeToLive, cancellationToken));
    }

    /// <summary>Stores a payload that always travels by reference (an export's file).</summary>
    public Task<MessageData<byte[]>> StoreAsync(byte[] bytes, CancellationToken cancellationToken = default) =>
        store is null
            ? throw new InvalidOperationException($"no message data store is configured ({MessageDataOptions.Section}__Directory, shared by the dashboard and the workers)")
            : store.PutBytes(bytes, options.Value.TimeToLive, cancellationToken);

    /// <summary>
    /// A received payload: the inline bytes, or the referenced ones read from the store, at most
    /// <paramref name="maxBytes"/> (checked before anything is read). Throws <see cref="MessageDataException"/> naming
    /// the problem when the reference cannot be read or is too large.
    /// </summary>
    public async Task<byte[]> ReadAsync(byte[]? inline, MessageData<byte[]>? reference, long maxBytes)
    {
        if (inline is { Length: > 0 } || reference?.Address is null) return inline ?? [];
        if (store is null)
            throw new MessageDataException($"the payload is in a message data store ({reference.Address}), and this process has none ({MessageDataOptions.Section}__Directory)");
        long length = store.LengthOf(reference.Address);
        if (length > maxBytes) throw new MessageDataException($"{length:N0} bytes; at most {maxBytes:N0} are taken");
        try
        {
            return await reference.Value;
        }
        catch (IOException e)
        {
            throw new MessageDataException($"message data {reference.Address} could not be read: {e.Message}", e);
        }
    }
}
