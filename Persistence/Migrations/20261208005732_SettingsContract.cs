using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SqueezeNext.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SettingsContract : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "run_setting_fields");

            // A training plan kept the recipe values twice (in its configuration and in its settings): its own settings
            // move to "schedule" and the copies go. Runs planned before plans recorded their classes cannot train again,
            // so those still waiting fail with the reason; resuming any of them is refused by the planner.
            migrationBuilder.Sql(
                """
                UPDATE runs SET plan_json = (plan_json - 'settings') || jsonb_build_object('schedule', jsonb_build_object(
                    'maxSteps', plan_json->'settings'->'maxSteps',
                    'evalEverySteps', coalesce(plan_json->'settings'->'evalEverySteps', '0'),
                    'evalMaxImages', plan_json->'settings'->'evalMaxImages',
                    'checkpointEverySteps', coalesce(plan_json->'settings'->'checkpointEverySteps', '0'),
                    'checkpointEveryMinutes', coalesce(plan_json->'settings'->'checkpointEveryMinutes', '10'),
                    'seed', coalesce(plan_json->'settings'->'seed', '0')))
                WHERE kind = 'Training' AND plan_json ? 'settings';
                UPDATE runs SET status = 'Failed', finished_at = now(),
                    error = 'planned by a version before 2026-12-03 that did not record the dataset''s classes: submit the run again'
                WHERE kind = 'Training' AND status IN ('Queued', 'Running') AND coalesce(plan_json->'classOrder', 'null'::jsonb) = 'null'::jsonb;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                """
                UPDATE runs SET plan_json = (plan_json - 'schedule') || jsonb_build_object('settings', plan_json->'schedule' || jsonb_build_object(
                    'epochs', plan_json->'configuration'->'training'->'epochs',
                    'batchSize', plan_json->'configuration'->'training'->'batchSize',
                    'learningRate', plan_json->'configuration'->'training'->'baseLearningRate',
                    'warmupSteps', plan_json->'configuration'->'training'->'warmupSteps',
                    'weightDecay', plan_json->'configuration'->'training'->'weightDecay',
                    'preciseBatchNormBatches', plan_json->'configuration'->'training'->'preciseBatchNormBatches'))
                WHERE kind = 'Training' AND plan_json ? 'schedule';
                """);

            migrationBuilder.CreateTable(
                name: "run_setting_fields",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    default_value = table.Column<double>(type: "double precision", nullable: true),
                    description = table.Column<string>(type: "text", nullable: false),
                    label = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    maximum = table.Column<double>(type: "double precision", nullable: false),
                    minimum = table.Column<double>(type: "double precision", nullable: false),
                    position = table.Column<int>(type: "integer", nullable: false),
                    recipe_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    whole_number = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_setting_fields", x => x.name);
                });
        }
    }
}
