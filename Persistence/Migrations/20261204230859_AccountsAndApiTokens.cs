using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SqueezeNext.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AccountsAndApiTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The one dashboard login becomes the first account, an admin; its password hash stays.
            migrationBuilder.RenameTable(name: "dashboard_users", newName: "accounts");
            migrationBuilder.Sql("ALTER TABLE accounts RENAME CONSTRAINT pk_dashboard_users TO pk_accounts;");
            migrationBuilder.DropColumn(name: "failed_attempts", table: "accounts");
            migrationBuilder.DropColumn(name: "locked_until", table: "accounts");
            migrationBuilder.AddColumn<string>(
                name: "role",
                table: "accounts",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                defaultValue: "Admin");
            migrationBuilder.AlterColumn<string>(name: "role", table: "accounts", type: "character varying(20)", maxLength: 20, nullable: false,
                oldClrType: typeof(string), oldType: "character varying(20)", oldMaxLength: 20, oldDefaultValue: "Admin");

            migrationBuilder.CreateTable(
                name: "login_throttles",
                columns: table => new
                {
                    key = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    failures = table.Column<int>(type: "integer", nullable: false),
                    last_failure_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    blocked_until = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_login_throttles", x => x.key);
                });

            migrationBuilder.CreateTable(
                name: "api_tokens",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    account_name = table.Column<string>(type: "character varying(100)", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    prefix = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    secret_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_tokens", x => x.id);
                    table.ForeignKey(
                        name: "fk_api_tokens_accounts_account_name",
                        column: x => x.account_name,
                        principalTable: "accounts",
                        principalColumn: "name",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_account_name",
                table: "api_tokens",
                column: "account_name");

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_secret_hash",
                table: "api_tokens",
                column: "secret_hash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_tokens");

            migrationBuilder.DropTable(
                name: "login_throttles");

            migrationBuilder.DropColumn(name: "role", table: "accounts");
            migrationBuilder.AddColumn<int>(name: "failed_attempts", table: "accounts", type: "integer", nullable: false, defaultValue: 0);
            migrationBuilder.AddColumn<DateTimeOffset>(name: "locked_until", table: "accounts", type: "timestamp with time zone", nullable: true);
            migrationBuilder.Sql("ALTER TABLE accounts RENAME CONSTRAINT pk_accounts TO pk_dashboard_users;");
            migrationBuilder.RenameTable(name: "accounts", newName: "dashboard_users");
        }
    }
}
