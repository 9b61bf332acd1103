using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SqueezeNext.Testing;

/// <summary>One span as an OTLP exporter sent it.</summary>
public sealed record ReceivedSpan(
    string Service, string Scope, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind, DateTimeOffset Start, TimeSpan Duration,
    IReadOnlyDictionary<string, object?> Attributes)
{
    public override string ToString() => $"{Service} {Scope} {Name} {Duration.TotalMilliseconds:F1} ms trace {TraceId} span {SpanId} parent {ParentSpanId ?? "-"}";
}

/// <summary>
/// An OTLP/HTTP receiver (protobuf, as the .NET exporter sends it with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf) that
/// keeps every span it is sent, for the hosts under test to export to. Metrics and logs are accepted and dropped.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedSpan> spans = new();

    private OtlpReceiver(WebApplication app) => this.app = app;

    public string Endpoint { get; private set; } = "";

    public IReadOnlyList<ReceivedSpan> Spans => spans.ToArray();

    /// <summary>What a host needs to export here: the endpoint, the protocol, and a short batch delay so tests need not wait.</summary>
    public IReadOnlyDictionary<string, string> ExporterSettings => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in OtlpSpans.Decode(body.ToArray())) receiver.spans.Enqueue(span);
            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
        app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return receiver;
    }

    /// <summary>Waits until <paramref name="found"/> holds of the spans received, and returns them.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForAsync(Func<IReadOnlyList<ReceivedSpan>, bool> found, TimeSpan timeout, string what)
    {
        IReadOnlyList<ReceivedSpan> received = [];
        await Poll.UntilAsync(() => Task.FromResult(found(received = Spans)), what, timeout,
            () => $"received {received.Count} spans:\n{string.Join("\n", received)}");
        return received;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}

/// <summary>
/// Reads the spans out of an OTLP ExportTraceServiceRequest. The generated OTLP classes (OpenTelemetry.Proto) are not
/// served on NuGet here, so the few fields the tests read are decoded with Google.Protobuf's reader, by their
/// field numbers in opentelemetry-proto's trace.proto, resource.proto and common.proto.
/// </summary>
internal static class OtlpSpans
{
    public static IEnumerable<ReceivedSpan> Decode(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Fields(ByteString.CopyFrom(request)))
        {
            if (field != 1) continue;
            string service = "";
            var scopeSpansList = new List<ByteString>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1) service = Attributes(value, attributeField: 1).GetValueOrDefault("service.name") as string ?? "";
                else if (f == 2) scopeSpansList.Add(value);
            }
            foreach (var scopeSpans in scopeSpansList)
            {
                string scope = "";
                foreach (var (f, value) in Fields(scopeSpans))
                {
                    if (f == 1) scope = Fields(value).Where(x => x.Field == 1).Select(x => x.Value.ToStringUtf8()).FirstOrDefault() ?? "";
                    else if (f == 2) spans.Add(Span(service, scope, value));
                }
            }
        }
        return spans;
    }

    private static ReceivedSpan Span(string service, string scope, ByteString encoded)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null;
        int kind = 0;
        ulong start = 0, end = 0;
        var input = encoded.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: traceId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 2: spanId = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                case 4:
                    var parentBytes = input.ReadBytes();
                    parent = parentBytes.IsEmpty ? null : Convert.ToHexStringLower(parentBytes.ToByteArray());
                    break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 7: start = input.ReadFixed64(); break;
                case 8: end = input.ReadFixed64(); break;
                default: input.SkipLastField(); break;
            }
        }
        var startTime = DateTimeOffset.UnixEpoch.AddTicks((long)(start / 100));
        return new ReceivedSpan(service, scope, traceId, spanId, parent, name, kind, startTime, TimeSpan.FromTicks((long)((end - start) / 100)),
            Attributes(encoded, attributeField: 9));
    }

    /// <summary>The KeyValue attributes in field <paramref name="attributeField"/> of a message, with their scalar values.</summary>
    private static Dictionary<string, object?> Attributes(ByteString message, int attributeField)
    {
        var attributes = new Dictionary<string, object?>();
        foreach (var (field, keyValue) in Fields(message))
        {
            if (field != attributeField) continue;
            string key = "";
            object? value = null;
            foreach (var (f, v) in Fields(keyValue))
            {
                if (f == 1) key = v.ToStringUtf8();
                else if (f == 2) value = AnyValue(v);
            }
            attributes[key] = value;
        }
        return attributes;
    }

    private static object? AnyValue(ByteString encoded)
    {
        var input = encoded.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: return input.ReadString();
                case 2: return input.ReadBool();
                case 3: return input.ReadInt64();
                case 4: return input.ReadDouble();
                default: input.SkipLastField(); break;
            }
        }
        return null;
    }

    /// <summary>The length-delimited fields of a message (sub-messages, strings, bytes); the others are skipped.</summary>
    private static IEnumerable<(int Field, ByteString Value)> Fields(ByteString message)
    {
        var input = message.CreateCodedInput();
        var fields = new List<(int, ByteString)>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited) fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes()));
            else input.SkipLastField();
        }
        return fields;
    }
}
