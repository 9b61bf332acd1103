using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SqueezeNext.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class PlannedRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "request_json",
                table: "runs",
                newName: "plan_json");

            // Runs accepted before plans were stored keep their command here: turn it into the plan it implied. The
            // dataset's classes were not recorded, so a training plan gets none; the worker reads those runs' classes again.
            migrationBuilder.Sql(
                """
                UPDATE runs SET plan_json = jsonb_build_object(
                    'configuration', configuration_json,
                    'classOrder', NULL, 'modelClasses', NULL, 'note', NULL,
                    'settings', jsonb_build_object(
                        'epochs', configuration_json->'training'->'epochs',
                        'maxSteps', plan_json->'maxSteps',
                        'batchSize', configuration_json->'training'->'batchSize',
                        'learningRate', configuration_json->'training'->'baseLearningRate',
                        'warmupSteps', configuration_json->'training'->'warmupSteps',
                        'weightDecay', configuration_json->'training'->'weightDecay',
                        'preciseBatchNormBatches', coalesce(configuration_json->'training'->'preciseBatchNormBatches', '0'),
                        'evalEverySteps', coalesce(plan_json->'evalEverySteps', '0'),
                        'evalMaxImages', plan_json->'evalMaxImages',
                        'checkpointEverySteps', coalesce(plan_json->'checkpointEverySteps', '0'),
                        'checkpointEveryMinutes', coalesce(plan_json->'checkpointEveryMinutes', '10'),
                        'seed', coalesce(plan_json->'seed', '0')))
                WHERE kind = 'Training' AND NOT plan_json ? 'settings';
                UPDATE runs SET plan_json = jsonb_build_object(
                    'split', coalesce(plan_json->'split', '"val"'),
                    'maxImages', plan_json->'maxImages')
                WHERE kind = 'Evaluation' AND plan_json ? 'runId';
                """);

            migrationBuilder.CreateTable(
                name: "run_setting_fields",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    label = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "text", nullable: false),
                    minimum = table.Column<double>(type: "double precision", nullable: false),
                    maximum = table.Column<double>(type: "double precision", nullable: false),
                    whole_number = table.Column<bool>(type: "boolean", nullable: false),
                    recipe_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    default_value = table.Column<double>(type: "double precision", nullable: true),
                    position = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_setting_fields", x => x.name);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The plans stay as they are under the old name: a command cannot be rebuilt from its plan.
            migrationBuilder.DropTable(
                name: "run_setting_fields");

            migrationBuilder.RenameColumn(
                name: "plan_json",
                table: "runs",
                newName: "request_json");
        }
    }
}
