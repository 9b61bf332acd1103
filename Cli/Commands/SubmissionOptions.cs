using MassTransit;
using SqueezeNext.Contracts;

namespace SqueezeNext.Cli.Commands;

/// <summary>
/// The options of a training submission and the <see cref="SubmitTraining"/> they make, shared by <c>sqnxt submit train</c>
/// (through the API) and <c>sqnxt bus train</c> (straight to the broker), so both accept and send the same thing.
/// </summary>
public sealed class TrainingSubmissionOptions
{
    private readonly Option<string> config = new("--config", "-c")
    {
        Description = "Configuration name, or a JSON configuration file (sent whole).", DefaultValueFactory = _ => ConfigurationCatalog.DefaultName,
    };
    private readonly Option<string> dataset = new("--dataset", "-d") { Description = "Dataset: a versioned dataset's name (or name@N), or a folder under the workers' data root.", Required = true };
    private readonly Option<string?> validation = new("--val-dataset") { Description = "Dataset to validate on." };
    private readonly Option<string?> name = new("--name") { Description = "Display name of the run." };
    private readonly Option<Guid?> runId = new("--run-id") { Description = "Id of the run (default: a new one); sending the same id again creates nothing new." };
    private readonly TrainingSettingOptions settings = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { config, dataset, validation, name, runId }) command.Options.Add(option);
        settings.AddTo(command);
    }

    public async Task<SubmitTraining> ReadAsync(ParseResult parse)
    {
        var configArgument = parse.GetValue(config)!;
        string? json = File.Exists(configArgument) ? await File.ReadAllTextAsync(configArgument) : null;
        return new SubmitTraining(parse.GetValue(runId) ?? NewId.NextGuid(), configArgument, parse.GetValue(dataset)!, json, parse.GetValue(validation),
            parse.GetValue(name), settings.Read(parse));
    }
}

/// <summary>The options of an evaluation submission and the <see cref="SubmitEvaluation"/> they make, shared by <c>sqnxt submit eval</c> and <c>sqnxt bus eval</c>.</summary>
public sealed class EvaluationSubmissionOptions
{
    private readonly Option<string> dataset = new("--dataset", "-d") { Description = "Dataset: a versioned dataset's name (or name@N), or a folder under the workers' data root.", Required = true };
    private readonly Option<string?> model = new("--model", "-m") { Description = "Registered model name." };
    private readonly Option<int?> version = new("--version") { Description = "Model version (default: the serving one)." };
    private readonly Option<Guid?> run = new("--run") { Description = "A training run whose model to evaluate (instead of --model)." };
    private readonly Option<long?> step = new("--step") { Description = "With --run: the checkpoint step (default: the final model)." };
    private readonly Option<string> split = new("--split") { Description = "val or train.", DefaultValueFactory = _ => "val" };
    private readonly Option<int?> maxImages = new("--max-images") { Description = "Evaluate on the first N images only." };
    private readonly Option<string?> name = new("--name") { Description = "Display name of the run." };
    private readonly Option<Guid?> runId = new("--run-id") { Description = "Id of the evaluation run (default: a new one); sending the same id again creates nothing new." };

    public EvaluationSubmissionOptions() => split.AcceptOnlyFromAmong("val", "train");

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { dataset, model, version, run, step, split, maxImages, name, runId }) command.Options.Add(option);
    }

    public SubmitEvaluation Read(ParseResult parse)
    {
        if ((parse.GetValue(model) is null) == (parse.GetValue(run) is null)) throw new CliUsageException("give either --model or --run");
        return new SubmitEvaluation(parse.GetValue(runId) ?? NewId.NextGuid(), parse.GetValue(dataset)!, parse.GetValue(model), parse.GetValue(version),
            parse.GetValue(run), parse.GetValue(step), parse.GetValue(split)!, parse.GetValue(maxImages), parse.GetValue(name));
    }
}

/// <summary>The options of a registration and the <see cref="RegisterModel"/> they make, shared by <c>sqnxt submit register</c> and <c>sqnxt bus register</c>.</summary>
public sealed class RegistrationOptions
{
    private readonly Option<Guid> run = new("--run") { Description = "Training run whose model to register.", Required = true };
    private readonly Option<string> name = new("--name", "-n") { Description = "Model name.", Required = true };
    private readonly Option<long?> step = new("--step") { Description = "Checkpoint step (default: the final model)." };
    private readonly Option<string?> description = new("--description");

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { run, name, step, description }) command.Options.Add(option);
    }

    public RegisterModel Read(ParseResult parse) =>
        new(NewId.NextGuid(), parse.GetValue(name)!, parse.GetValue(run), parse.GetValue(step), parse.GetValue(description));
}
