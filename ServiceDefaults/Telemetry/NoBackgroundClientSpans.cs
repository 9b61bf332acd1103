using System.Diagnostics;
using OpenTelemetry.Trace;

namespace SqueezeNext.ServiceDefaults.Telemetry;

/// <summary>
/// The root sampler: a client call with no operation around it (a worker polling for runs, renewing a lease, a
/// dashboard page's query over SignalR) is not a trace of its own; every other root span is recorded. Spans with a
/// parent follow their parent (<see cref="ParentBasedSampler"/>).
/// </summary>
public sealed class NoBackgroundClientSpans : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        new(samplingParameters.Kind == ActivityKind.Client ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
}
