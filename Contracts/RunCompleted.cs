namespace SqueezeNext.Contracts;

/// <summary>Event: a run finished. For training, the best and last validation accuracy; for evaluation, its result.</summary>
public sealed record RunCompleted(Guid RunId, string Kind, long Step, double? Top1, double? Top5, double? BestTop1, double Seconds, DateTimeOffset Time);
