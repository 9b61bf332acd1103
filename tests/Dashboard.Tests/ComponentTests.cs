using System.ComponentModel.DataAnnotations;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Radzen;
using SqueezeNext.Contracts;
using SqueezeNext.Contracts.Settings;
using SqueezeNext.Dashboard.Components.Shared;
using SqueezeNext.Dashboard.Data;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Training;

namespace SqueezeNext.Dashboard.Tests;

[Trait("Level", "unit")]
public sealed class ComponentTests : BunitContext
{
    public ComponentTests()
    {
        Services.AddRadzenComponents();
        JSInterop.Mode = JSRuntimeMode.Loose;
        // RadzenChart measures its element through JavaScript before it lays out its axes.
        JSInterop.Setup<Radzen.Blazor.Rendering.Rect>("Radzen.createChart", _ => true)
            .SetResult(new Radzen.Blazor.Rendering.Rect { Width = 600, Height = 260 });
    }

    private static Run Run(RunStatus status, DateTimeOffset? heartbeat = null, long step = 0, long total = 0) => new()
    {
        Id = Guid.NewGuid(), Name = "r", Status = status, HeartbeatAt = heartbeat, Step = step, TotalSteps = total,
        CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-3),
    };

    [Theory]
    [InlineData(RunStatus.Queued, "queued", "info")]
    [InlineData(RunStatus.Running, "running", "primary")]
    [InlineData(RunStatus.Completed, "completed", "success")]
    [InlineData(RunStatus.Failed, "failed", "danger")]
    [InlineData(RunStatus.Cancelled, "cancelled", "light")]
    public void Status_badges_name_and_colour_each_status(RunStatus status, string text, string style)
    {
        var now = DateTimeOffset.UtcNow;
        var badge = Render<StatusBadge>(p => p.Add(b => b.Run, Run(status, now)).Add(b => b.Now, now));

        var element = badge.Find(".status-badge");
        Assert.Equal(text, element.GetAttribute("data-status"));
        Assert.Contains(text, element.TextContent);
        Assert.Contains($"rz-badge-{style}", element.ClassName);
    }

    [Fact]
    public void A_running_run_without_a_heartbeat_for_a_minute_shows_as_stale()
    {
        var now = DateTimeOffset.UtcNow;
        var badge = Render<StatusBadge>(p => p.Add(b => b.Run, Run(RunStatus.Running, now.AddMinutes(-2))).Add(b => b.Now, now));

        Assert.Equal("stale", badge.Find(".status-badge").GetAttribute("data-status"));
        Assert.Contains("rz-badge-warning", badge.Find(".status-badge").ClassName);
    }

    [Fact]
    public void Progress_shows_steps_and_a_bar_only_once_the_length_is_known()
    {
        var unknown = Render<RunProgress>(p => p.Add(r => r.Run, Run(RunStatus.Queued)));
        var halfway = Render<RunProgress>(p => p.Add(r => r.Run, Run(RunStatus.Running, DateTimeOffset.UtcNow, 50, 100)));

        Assert.Empty(unknown.FindAll(".rz-progressbar"));
        Assert.Single(halfway.FindAll(".rz-progressbar"));
        Assert.Contains("50 / 100", halfway.Markup);
        Assert.Equal(50, RunDisplay.Progress(Run(RunStatus.Running, null, 50, 100)));
        Assert.Equal(100, RunDisplay.Progress(Run(RunStatus.Completed, null, 7, 0)));
    }

    [Fact]
    public void Chart_data_maps_to_the_chosen_axis_in_order_without_non_finite_values()
    {
        var points = new[]
        {
            new CurvePoint(Step: 20, Epoch: 2, Seconds: 120, Value: 0.5),
            new CurvePoint(Step: 10, Epoch: 1, Seconds: 60, Value: 0.9),
            new CurvePoint(Step: 30, Epoch: 3, Seconds: 180, Value: double.NaN),
        };

        Assert.Equal([new ChartPoint(10, 0.9), new ChartPoint(20, 0.5)], RunDisplay.Project(points, CurveAxis.Step));
        Assert.Equal([1.0, 2.0], RunDisplay.Project(points, CurveAxis.Epoch).Select(p => p.X));
        Assert.Equal([1.0, 2.0], RunDisplay.Project(points, CurveAxis.Time).Select(p => p.X));
        Assert.Equal("minutes", RunDisplay.AxisTitle(CurveAxis.Time));
    }

    [Fact]
    public void A_chart_without_points_says_so_and_one_with_points_draws_a_series_each()
    {
        var empty = Render<MetricChart>(p => p.Add(c => c.Title, "Loss").Add(c => c.Series, [new MetricChart.Curve("train", [])]));
        var drawn = Render<MetricChart>(p => p
            .Add(c => c.Title, "Accuracy")
            .Add(c => c.Series, [
                new MetricChart.Curve("top-1", [new CurvePoint(1, 0, 1, 0.5), new CurvePoint(2, 0, 2, 0.6)]),
                new MetricChart.Curve("top-5", [new CurvePoint(1, 0, 1, 0.8), new CurvePoint(2, 0, 2, 0.9)]),
            ]));

        Assert.Contains("No points yet.", empty.Markup);
        Assert.Empty(empty.FindAll("svg"));
        Assert.NotEmpty(drawn.FindAll("svg"));
        Assert.Contains("top-1", drawn.Markup);
        Assert.Contains("top-5", drawn.Markup);
    }

    private static SettingField Field(string name) => TrainingSettings.FieldOf(name);

    [Fact]
    public void The_training_form_names_each_refused_field_in_the_words_of_the_settings()
    {
        var form = new TrainingForm
        {
            Configuration = "", Dataset = "",
            Settings = new TrainingSettings { Epochs = 0, BatchSize = 0, LearningRate = -1, WeightDecay = 2, CheckpointEveryMinutes = 2000 },
        };

        var problems = form.Problems();

        Assert.Equal("Choose a configuration.", problems[nameof(TrainingForm.Configuration)]);
        Assert.Equal("Choose a dataset.", problems[nameof(TrainingForm.Dataset)]);
        Assert.Equal("epochs: 0 is outside 1..10000", problems["epochs"]);
        Assert.Equal("batchSize: 0 is outside 1..65536", problems["batchSize"]);
        Assert.Equal("learningRate: -1 is outside 1E-09..100", problems["learningRate"]);
        Assert.Equal("weightDecay: 2 is outside 0..1", problems["weightDecay"]);
        Assert.Equal("checkpointEveryMinutes: 2000 is outside 0..1440", problems["checkpointEveryMinutes"]);
        Assert.Equal(7, problems.Count);
    }

    [Fact]
    public void The_training_form_prefills_from_a_configuration_and_builds_the_command()
    {
        var form = new TrainingForm { Configuration = "v_1_0_G_SqNxt_23", Dataset = "fashion-mnist" };
        form.ApplyDefaults("""{ "name": "v_1_0_G_SqNxt_23", "training": { "epochs": 120, "batchSize": 256, "baseLearningRate": 0.4, "warmupSteps": 780, "weightDecay": 0, "preciseBatchNormBatches": 0 } }""");
        form[Field("epochs")] = 3;

        var command = form.ToCommand(Guid.Empty);

        var settings = command.Settings!;
        Assert.Equal((256, 0.4, 780, 3), (settings.BatchSize!.Value, settings.LearningRate!.Value, settings.WarmupSteps!.Value, settings.Epochs!.Value));
        Assert.Equal((10.0, 0L), (settings.CheckpointEveryMinutes!.Value, settings.Seed!.Value));
        Assert.Null(settings.MaxSteps);
        Assert.Equal("v_1_0_G_SqNxt_23", command.Configuration);
        Assert.Null(command.ConfigurationJson);
    }

    [Theory]
    [InlineData(true, null, null, "Model", "Name the model to evaluate.")]
    [InlineData(false, null, null, "Run", "Give the id of a training run.")]
    [InlineData(false, "run-7", null, "Run", "This is not a run id")]
    [InlineData(true, null, 0, "MaxImages", "Evaluate at least one image")]
    public void The_evaluation_form_names_the_field_that_is_wrong(bool byModel, string? run, int? maxImages, string member, string message)
    {
        var form = new EvaluationForm { ByModel = byModel, Run = run, MaxImages = maxImages, Dataset = "fashion-mnist", Model = maxImages is null ? null : "fashion" };
        var results = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(form, new ValidationContext(form), results, validateAllProperties: true));

        Assert.Contains(results, r => r.MemberNames.Single() == member && r.ErrorMessage!.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void The_evaluation_form_builds_a_command_for_a_checkpoint_or_a_model_version()
    {
        var run = Guid.NewGuid();
        var checkpoint = new EvaluationForm { ByModel = false, Run = $" {run} ", Step = 80, Model = "ignored", Dataset = "fashion-mnist", MaxImages = 300 }.ToCommand(Guid.Empty);
        var version = new EvaluationForm { Model = " fashion ", Version = 2, Run = "ignored", Dataset = "photos", Split = "train" }.ToCommand(Guid.Empty);

        Assert.Equal((run, 80L, (string?)null, 300), (checkpoint.SourceRunId!.Value, checkpoint.CheckpointStep!.Value, checkpoint.ModelName, checkpoint.MaxImages!.Value));
        Assert.Equal(("fashion", 2, (Guid?)null, "train"), (version.ModelName!, version.ModelVersion!.Value, version.SourceRunId, version.Split));
    }
    [Fact]
    public void Clone_with_changes_starts_from_everything_the_run_was_planned_with()
    {
        var configuration = ConfigurationCatalog.Get("1.0-SqNxt-23-28px");
        var settings = new TrainingSettings { MaxSteps = 80, BatchSize = 32, LearningRate = 0.05, WarmupSteps = 10, PreciseBatchNormBatches = 5, Seed = 7,
            EvalEverySteps = 40, EvalMaxImages = 300, CheckpointEverySteps = 40 };
        var plan = TrainingPlan.Create(configuration, settings, Enumerable.Range(0, 10).Select(i => $"class-{i}").ToList());
        var run = new Run { Name = "short", ConfigurationName = plan.Configuration.Name, Dataset = "fashion-mnist", PlanJson = plan.ToJson() };

        var form = TrainingForm.CloneOf(run);

        Assert.Equal(settings.WithRunDefaults() with
        {
            Epochs = configuration.Training.Epochs, WeightDecay = configuration.Training.WeightDecay, LabelSmoothing = configuration.Training.LabelSmoothing,
        }, form.Settings);
        Assert.Equal(("short (clone)", "fashion-mnist"), (form.Name, form.Dataset));
    }
}
