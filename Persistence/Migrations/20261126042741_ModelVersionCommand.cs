using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SqueezeNext.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ModelVersionCommand : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "command_id",
                table: "model_versions",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_model_versions_command_id",
                table: "model_versions",
                column: "command_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_versions_command_id",
                table: "model_versions");

            migrationBuilder.DropColumn(
                name: "command_id",
                table: "model_versions");
        }
    }
}
