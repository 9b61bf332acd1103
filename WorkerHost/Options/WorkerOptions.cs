using SqueezeNext.Vision.Inference;
using System.ComponentModel.DataAnnotations;

namespace SqueezeNext.WorkerHost.Options;

/// <summary>The worker's settings (section "Worker"), validated at start.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Folder whose sub-folders are the datasets that commands may name.</summary>
    [Required]
    public string DataRoot { get; set; } = "";

    /// <summary>Folder for run outputs (checkpoints, models) and registered model versions.</summary>
    [Required]
    public string ArtifactRoot { get; set; } = "";

    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    [Required]
    [RegularExpression("^(auto|cpu|cuda(:[0-9]+)?)$")]
    public string Device { get; set; } = "auto";

    /// <summary>libtorch threads; null keeps libtorch's default (one per core).</summary>
    [Range(1, 256)]
    public int? TorchThreads { get; set; }

    /// <summary>
    /// glibc heap arenas (MALLOC_ARENA_MAX), applied only where the worker was not started with the training heap
    /// settings (scripts/training-heap.env, which use one); each arena keeps the peak of the forward passes that ran in
    /// it, so the default of eight per core multiplies resident memory under classify load. 0 leaves glibc's default.
    /// </summary>
    [Range(0, 64)]
    public int MallocArenas { get; set; } = 2;

    /// <summary>
    /// How long classification must pause before the C heap's free pages go back to the system (malloc_trim), while no
    /// training or evaluation runs; zero turns trimming off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan HeapTrimInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the heap is trimmed while forward passes keep running: every trim makes the next passes fault their
    /// memory back in (a tenth of the classify throughput when it was every 2 s), but batches of changing sizes
    /// leave holes in the heap that only a trim returns.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HeapTrimIntervalUnderLoad { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Image decoding threads of a training run's loader.</summary>
    [Range(1, 64)]
    public int LoaderThreads { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Run training and evaluation jobs on this worker (false: classification only).</summary>
    public bool RunJobs { get; set; } = true;

    /// <summary>How often a running job writes its heartbeat and checks for cancellation.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A running run whose heartbeat is older than this is presumed orphaned and queued again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StaleAfter { get; set; } = Persistence.Runs.RunLifecycle.DefaultStaleAfter;

    /// <summary>How often an idle worker looks for queued runs.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often metrics are written to the database and progress is published.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Default checkpoint interval of submitted runs in minutes (a message may set its own).</summary>
    [Range(0.0, 1440.0)]
    public double CheckpointEveryMinutes { get; set; } = 10;

    /// <summary>Model used for classification when a message names none (its serving version).</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Largest weights file an <c>ImportModel</c> command may carry (the largest SqueezeNext is about 14 MB).</summary>
    [Range(1, 120L * 1024 * 1024)]
    public long MaxImportBytes { get; set; } = 100L * 1024 * 1024;

    public ClassificationOptions Classification { get; set; } = new();

    public DatasetImportSettings Datasets { get; set; } = new();
}

/// <summary>Batching of classification requests (section "Worker:Classification").</summary>
public sealed class ClassificationOptions
{
    /// <summary>
    /// Which library runs the forward passes: <c>onnxruntime</c> (on the model's ONNX graph, made on first load and kept
    /// beside its weights) or <c>torch</c>. The default is the one measured faster (docs/performance.md).
    /// </summary>
    public string Engine { get; set; } = InferenceEngines.Name(InferenceEngines.Default);

    /// <summary><see cref="Engine"/>, parsed (validated at start).</summary>
    public InferenceEngine InferenceEngine => InferenceEngines.Parse(Engine);

    /// <summary>
    /// Most images in one forward pass (Triton's max_batch_size). On one libtorch thread 16 images a pass classify as
    /// many per second as 32, and two passes of 16 at once need half the memory of two of 32.
    /// </summary>
    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = 16;

    /// <summary>
    /// Longest a request waits for others to share its forward pass (Triton's max_queue_delay). Under load the next
    /// batch fills while a pass runs, so this only delays requests that arrive at an idle model.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Largest encoded image accepted.</summary>
    [Range(1, 256 * 1024 * 1024)]
    public int MaxImageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest width × height accepted (checked from the header before decoding).</summary>
    [Range(1, 1_000_000_000)]
    public long MaxImagePixels { get; set; } = 50_000_000;

    /// <summary>
    /// Decode a JPEG at 1/2, 1/4 or 1/8 of its size where the model's resize would shrink it further anyway
    /// (libjpeg-turbo's scaled IDCT): a 1728×1152 photo costs half as much. The input then differs from a full decode by
    /// under one level of 255 on average; off, answers match <c>sqnxt predict</c> to the last digit.
    /// </summary>
    public bool ReducedSizeDecoding { get; set; } = true;

    /// <summary>
    /// Forward passes run at once, each on a thread of its own with its share of <see cref="WorkerOptions.TorchThreads"/>.
    /// Two single-threaded passes keep both cores of a 2-core machine busy while requests are decoded beside them; one
    /// pass on two threads stalls whenever decoding takes one of its cores (each of its operations waits for both
    /// halves), which cost a third of the forward throughput under load (docs/performance.md).
    /// </summary>
    [Range(1, 64)]
    public int ConcurrentPasses { get; set; } = 2;

    /// <summary>The libtorch or ONNX Runtime threads each forward pass runs on: its share of <paramref name="torchThreads"/>.</summary>
    public int ThreadsPerPass(int? torchThreads) => Math.Max(1, (torchThreads ?? Environment.ProcessorCount) / ConcurrentPasses);

    /// <summary>
    /// Whether an answer sent to a waiting caller is also published as an event. Off (the default), a caller that waits
    /// gets the answer alone and the event goes out for requests nobody waits for (DESIGN.md): at full load one
    /// message fewer per request for the broker and any subscriber, which a serving path does not afford to spend on
    /// answers already delivered. On, every answer is also an event (for an audit trail of all classifications).
    /// </summary>
    public bool PublishAnsweredEvents { get; set; }

    /// <summary>Images decoded at once (each on the thread of its request).</summary>
    [Range(1, 64)]
    public int DecodeThreads { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Models kept loaded at once.</summary>
    [Range(1, 64)]
    public int CachedModels { get; set; } = 4;
}
