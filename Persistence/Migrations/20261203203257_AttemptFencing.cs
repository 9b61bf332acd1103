using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SqueezeNext.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AttemptFencing : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "attempt",
                table: "run_events",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "attempt",
                table: "metric_points",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "attempt",
                table: "checkpoints",
                type: "integer",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "attempt",
                table: "run_events");

            migrationBuilder.DropColumn(
                name: "attempt",
                table: "metric_points");

            migrationBuilder.DropColumn(
                name: "attempt",
                table: "checkpoints");
        }
    }
}
