namespace SqueezeNext.Vision.Evaluation;

/// <summary>Accuracy on one class of the evaluated split.</summary>
public sealed record ClassMetrics(int Index, string Name, int Correct, int Total)
{
    public double Accuracy => Total == 0 ? 0 : (double)Correct / Total;
}

/// <summary>Loss and top-1/top-5 accuracy of a model on a dataset split, with per-class accuracy and throughput.</summary>
public sealed record EvaluationReport(
    int Images,
    double Loss,
    double Top1,
    double Top5,
    IReadOnlyList<ClassMetrics> PerClass,
    double ImagesPerSecond,
    double Seconds,
    int FailedImages);
