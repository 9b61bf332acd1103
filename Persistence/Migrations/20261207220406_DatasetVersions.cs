using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace SqueezeNext.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DatasetVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "dataset_digest",
                table: "runs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "dataset_version_id",
                table: "runs",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "validation_dataset_version_id",
                table: "runs",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "created_at",
                table: "datasets",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTimeOffset(new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)));

            migrationBuilder.AddColumn<string>(
                name: "created_by",
                table: "datasets",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "layout",
                table: "datasets",
                type: "character varying(50)",
                maxLength: 50,
                nullable: true);

            // Until now 'kind' held the folder's layout, and every row was a folder a worker found.
            migrationBuilder.Sql("UPDATE datasets SET layout = kind, kind = 'folder', created_at = seen_at;");

            migrationBuilder.AlterColumn<string>(
                name: "kind",
                table: "datasets",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(50)",
                oldMaxLength: 50);


            migrationBuilder.CreateTable(
                name: "dataset_versions",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    dataset_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    digest = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    layout = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: true),
                    classes_json = table.Column<string>(type: "jsonb", nullable: false),
                    classes = table.Column<int>(type: "integer", nullable: false),
                    train_images = table.Column<int>(type: "integer", nullable: false),
                    validation_images = table.Column<int>(type: "integer", nullable: false),
                    size_bytes = table.Column<long>(type: "bigint", nullable: false),
                    source = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    source_name = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    created_by = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ready_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    report_json = table.Column<string>(type: "jsonb", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true),
                    import_run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    path = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_dataset_versions", x => x.id);
                    table.ForeignKey(
                        name: "fk_dataset_versions_datasets_dataset_name",
                        column: x => x.dataset_name,
                        principalTable: "datasets",
                        principalColumn: "name",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_runs_dataset_version_id",
                table: "runs",
                column: "dataset_version_id");

            migrationBuilder.CreateIndex(
                name: "ix_runs_validation_dataset_version_id",
                table: "runs",
                column: "validation_dataset_version_id");

            migrationBuilder.CreateIndex(
                name: "ix_dataset_versions_dataset_name_version",
                table: "dataset_versions",
                columns: new[] { "dataset_name", "version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_dataset_versions_import_run_id",
                table: "dataset_versions",
                column: "import_run_id",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_runs_dataset_versions_dataset_version_id",
                table: "runs",
                column: "dataset_version_id",
                principalTable: "dataset_versions",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "fk_runs_dataset_versions_validation_dataset_version_id",
                table: "runs",
                column: "validation_dataset_version_id",
                principalTable: "dataset_versions",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_runs_dataset_versions_dataset_version_id",
                table: "runs");

            migrationBuilder.DropForeignKey(
                name: "fk_runs_dataset_versions_validation_dataset_version_id",
                table: "runs");

            migrationBuilder.DropTable(
                name: "dataset_versions");

            migrationBuilder.DropIndex(
                name: "ix_runs_dataset_version_id",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_runs_validation_dataset_version_id",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "dataset_digest",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "dataset_version_id",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "validation_dataset_version_id",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "created_at",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "created_by",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "layout",
                table: "datasets");

            migrationBuilder.AlterColumn<string>(
                name: "kind",
                table: "datasets",
                type: "character varying(50)",
                maxLength: 50,
                nullable: false,
                oldClrType: typeof(string),
                oldType: "character varying(20)",
                oldMaxLength: 20);
        }
    }
}
