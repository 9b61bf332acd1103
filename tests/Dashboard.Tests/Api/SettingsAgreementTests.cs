using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SqueezeNext.Contracts;
using SqueezeNext.Contracts.Settings;
using SqueezeNext.Dashboard.Data;

namespace SqueezeNext.Dashboard.Tests.Api;

/// <summary>
/// The one settings contract holds at every entry point: for each training setting, the value just outside each of its
/// bounds is refused with the same message by the API, by the bus (the worker's planner) and by the dashboard's form,
/// and the OpenAPI document states the same bounds.
/// </summary>
[Trait("Level", "processes")]
public sealed class SettingsAgreementTests : IAsyncLifetime
{
    private const string Configuration = "1.0-SqNxt-23-28px";
    private JobSystem system = null!;
    private AppProcess dashboard = null!;
    private HttpClient api = null!;

    public async Task InitializeAsync()
    {
        system = await JobSystem.CreateAsync();
        system.AddPhotos();
        await system.StartWorkerAsync();
        await system.StartClientAsync();
        dashboard = await system.StartDashboardAsync("settings-agreement-password");
        var accounts = new ApiAccounts(system, dashboard.BaseAddress);
        api = accounts.Client(await accounts.TokenAsync("otto", AccountRole.Operator));
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await system.DisposeAsync();
    }

    /// <summary>Each setting with the values just below its minimum and just above its maximum.</summary>
    private static IEnumerable<(SettingField Field, double Value)> JustOutside() =>
        TrainingSettings.Fields.SelectMany(field => field.WholeNumber
            ? new[] { (field, field.Minimum - 1), (field, field.Maximum + 1) }
            : new[] { (field, Math.BitDecrement(field.Minimum)), (field, Math.BitIncrement(field.Maximum)) });

    [Fact]
    public async Task Every_setting_just_outside_its_range_is_refused_with_one_message_by_the_api_the_bus_and_the_form()
    {
        var mismatches = new List<string>();
        foreach (var (field, value) in JustOutside())
        {
            string expected = field.Problem(value);

            var form = new TrainingForm { Configuration = Configuration, Dataset = "photos" };
            form[field] = value;
            string? byForm = form.Problems().GetValueOrDefault(field.Name);

            var body = new JsonObject
            {
                ["configuration"] = Configuration, ["dataset"] = "photos", ["settings"] = new JsonObject { [field.Name] = JsonValue.Create(value) },
            };
            using var response = await api.PostAsJsonAsync("/api/v1/runs/training", body);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            string? byApi = response.StatusCode == HttpStatusCode.BadRequest && problem.TryGetProperty("errors", out var errors)
                            && errors.TryGetProperty($"settings.{field.Name}", out var messages)
                ? messages[0].GetString()
                : $"{(int)response.StatusCode} {problem}";

            var settings = new TrainingSettings().With(field, value);
            var answer = await system.Client<SubmitTraining>().GetResponse<RunQueued, CommandRejected>(
                new SubmitTraining(NewId.NextGuid(), Configuration, "photos", Settings: settings));
            string? byBus = answer.Is(out Response<CommandRejected>? rejected) ? rejected!.Message.Reason : "accepted";

            if (byForm != expected || byApi != expected || byBus != expected)
                mismatches.Add($"{field.Name} = {value}: expected '{expected}'; form '{byForm}', API '{byApi}', bus '{byBus}'");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public async Task A_setting_sent_beside_settings_is_refused_naming_where_it_goes_not_left_out()
    {
        using var response = await api.PostAsJsonAsync("/api/v1/runs/training", new { configuration = Configuration, dataset = "photos", epochs = 1, colour = "red" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal("epochs: a run setting goes under settings (settings.epochs)", errors.GetProperty("epochs")[0].GetString());
        Assert.Equal("colour: not a field of a training request", errors.GetProperty("colour")[0].GetString());
        await using var db = system.Db();
        Assert.Equal(0, await db.Runs.CountAsync());
    }

    [Fact]
    public async Task The_openapi_document_states_each_settings_range_and_description()
    {
        var document = await api.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schema = document.GetProperty("components").GetProperty("schemas").GetProperty(nameof(TrainingSettings)).GetProperty("properties");

        foreach (var field in TrainingSettings.Fields)
        {
            var property = schema.GetProperty(field.Name);
            Assert.Equal((field.Minimum, field.Maximum), (property.GetProperty("minimum").GetDouble(), property.GetProperty("maximum").GetDouble()));
            Assert.Equal(field.Description, property.GetProperty("description").GetString());
        }
    }
}
