using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SqueezeNext.Persistence.Entities;

namespace SqueezeNext.Persistence;

/// <summary>The job system's database: runs, their metrics, checkpoints and events, model versions, evaluation results,
/// processed commands and the datasets workers report. Tables and columns are snake_case for hand-written SQL.</summary>
public sealed class JobsDbContext(DbContextOptions<JobsDbContext> options) : DbContext(options)
{
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<MetricPoint> MetricPoints => Set<MetricPoint>();
    public DbSet<Checkpoint> Checkpoints => Set<Checkpoint>();
    public DbSet<RunEvent> RunEvents => Set<RunEvent>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<EvaluationResult> EvaluationResults => Set<EvaluationResult>();
    public DbSet<ProcessedCommand> ProcessedCommands => Set<ProcessedCommand>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DatasetVersion> DatasetVersions => Set<DatasetVersion>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<LoginThrottle> LoginThrottles => Set<LoginThrottle>();
    public DbSet<ConfigurationEntry> Configurations => Set<ConfigurationEntry>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Run>(run =>
        {
            run.ToTable("runs");
            run.Property(r => r.Id).ValueGeneratedNever();
            run.Property(r => r.CreatedAt).HasDefaultValueSql("now()");
            run.Property(r => r.Kind).HasConversion<string>().HasMaxLength(20);
            run.Property(r => r.Status).HasConversion<string>().HasMaxLength(20);
            run.Property(r => r.Name).HasMaxLength(200);
            run.Property(r => r.ConfigurationName).HasMaxLength(200);
            run.Property(r => r.ConfigurationJson).HasColumnType("jsonb");
            run.Property(r => r.PlanJson).HasColumnType("jsonb");
            run.Property(r => r.Dataset).HasMaxLength(200);
            run.Property(r => r.ValidationDataset).HasMaxLength(200);
            run.Property(r => r.Worker).HasMaxLength(200);
            run.Property(r => r.DatasetDigest).HasMaxLength(64);
            run.HasOne<DatasetVersion>().WithMany().HasForeignKey(r => r.DatasetVersionId).OnDelete(DeleteBehavior.Restrict);
            run.HasOne<DatasetVersion>().WithMany().HasForeignKey(r => r.ValidationDatasetVersionId).OnDelete(DeleteBehavior.Restrict);
            // The claim query: oldest queued first.
            run.HasIndex(r => new { r.Status, r.CreatedAt });
            run.HasIndex(r => r.CreatedAt);
        });
        model.Entity<MetricPoint>(metric =>
        {
            metric.ToTable("metric_points");
            metric.Property(m => m.Name).HasMaxLength(100);
            metric.HasIndex(m => new { m.RunId, m.Name, m.Step }).IsUnique();
            metric.HasOne<Run>().WithMany().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<Checkpoint>(checkpoint =>
        {
            checkpoint.ToTable("checkpoints");
            checkpoint.Property(c => c.MetricsJson).HasColumnType("jsonb");
            checkpoint.HasIndex(c => new { c.RunId, c.Step }).IsUnique();
            checkpoint.HasOne<Run>().WithMany().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<RunEvent>(runEvent =>
        {
            runEvent.ToTable("run_events");
            runEvent.Property(e => e.Kind).HasConversion(kind => RunEventKinds.Name(kind), name => RunEventKinds.Parse(name)).HasMaxLength(50);
            runEvent.Property(e => e.Level).HasMaxLength(20);
            runEvent.Property(e => e.Time).HasDefaultValueSql("now()");
            runEvent.HasIndex(e => new { e.RunId, e.Time });
            runEvent.HasOne<Run>().WithMany().HasForeignKey(e => e.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ModelVersion>(version =>
        {
            version.ToTable("model_versions");
            version.Property(v => v.Name).HasMaxLength(100);
            version.HasIndex(v => new { v.Name, v.Version }).IsUnique();
            version.HasIndex(v => v.CommandId).IsUnique();
            // At most one serving version per name, enforced by the database.
            version.HasIndex(v => v.Name).IsUnique().HasFilter("is_serving").HasDatabaseName("ix_model_versions_serving");
        });
        model.Entity<EvaluationResult>(result =>
        {
            result.ToTable("evaluation_results");
            result.Property(r => r.PerClassJson).HasColumnType("jsonb");
            result.HasIndex(r => r.RunId);
            result.HasIndex(r => r.ModelVersionId);
            result.HasOne<Run>().WithMany().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ProcessedCommand>(command =>
        {
            command.ToTable("processed_commands");
            command.Property(c => c.Id).ValueGeneratedNever();
            command.Property(c => c.Type).HasMaxLength(100);
            command.Property(c => c.Outcome).HasMaxLength(20);
            command.Property(c => c.PayloadJson).HasColumnType("jsonb");
        });
        var dataset = KeyedByName<Dataset>(model, "datasets", 200);
        dataset.Property(d => d.Kind).HasMaxLength(20);
        dataset.Property(d => d.Layout).HasMaxLength(50);
        dataset.Property(d => d.CreatedBy).HasMaxLength(100);
        model.Entity<DatasetVersion>(version =>
        {
            version.ToTable("dataset_versions");
            version.Property(v => v.DatasetName).HasMaxLength(200);
            version.Property(v => v.Status).HasConversion<string>().HasMaxLength(20);
            version.Property(v => v.Digest).HasMaxLength(64);
            version.Property(v => v.Layout).HasMaxLength(50);
            version.Property(v => v.ClassesJson).HasColumnType("jsonb");
            version.Property(v => v.ReportJson).HasColumnType("jsonb");
            version.Property(v => v.Source).HasMaxLength(20);
            version.Property(v => v.SourceName).HasMaxLength(1000);
            version.Property(v => v.CreatedBy).HasMaxLength(100);
            version.Property(v => v.Path).HasMaxLength(1000);
            version.HasIndex(v => new { v.DatasetName, v.Version }).IsUnique();
            version.HasIndex(v => v.ImportRunId).IsUnique();
            version.HasOne<Dataset>().WithMany().HasForeignKey(v => v.DatasetName).OnDelete(DeleteBehavior.Restrict);
        });
        var account = KeyedByName<Account>(model, "accounts", 100);
        account.Property(a => a.PasswordHash).HasMaxLength(200);
        account.Property(a => a.Role).HasConversion<string>().HasMaxLength(20);
        model.Entity<ApiToken>(token =>
        {
            token.ToTable("api_tokens");
            token.Property(t => t.Id).ValueGeneratedNever();
            token.Property(t => t.Name).HasMaxLength(100);
            token.Property(t => t.Prefix).HasMaxLength(20);
            token.Property(t => t.SecretHash).HasMaxLength(64);
            token.HasIndex(t => t.SecretHash).IsUnique();
            token.HasIndex(t => t.AccountName);
            token.HasOne<Account>().WithMany().HasForeignKey(t => t.AccountName).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<LoginThrottle>(throttle =>
        {
            throttle.ToTable("login_throttles");
            throttle.HasKey(t => t.Key);
            throttle.Property(t => t.Key).HasMaxLength(400);
        });
        KeyedByName<ConfigurationEntry>(model, "configurations", 200).Property(c => c.Json).HasColumnType("jsonb");

        foreach (var entity in model.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
                property.SetColumnName(SnakeCase(property.Name));
            foreach (var key in entity.GetKeys())
                key.SetName(SnakeCase(key.GetName() ?? ""));
            foreach (var foreignKey in entity.GetForeignKeys())
                foreignKey.SetConstraintName(SnakeCase(foreignKey.GetConstraintName() ?? ""));
            foreach (var index in entity.GetIndexes())
                index.SetDatabaseName(SnakeCase(index.GetDatabaseName() ?? ""));
        }
    }

    /// <summary>The lists workers publish for the dashboard, and the logins: each row is known by its name.</summary>
    private static EntityTypeBuilder<T> KeyedByName<T>(ModelBuilder model, string table, int nameLength) where T : class
    {
        var entity = model.Entity<T>();
        entity.ToTable(table);
        entity.HasKey("Name");
        entity.Property<string>("Name").HasMaxLength(nameLength);
        return entity;
    }

    private static string SnakeCase(string name)
    {
        var result = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && name[i - 1] != '_' && !char.IsUpper(name[i - 1])) result.Append('_');
                result.Append(char.ToLowerInvariant(c));
            }
            else
            {
                result.Append(c);
            }
        }
        return result.ToString();
    }
}
