using Microsoft.EntityFrameworkCore;
using SqueezeNext.Persistence.Entities;
using SqueezeNext.Vision.Configuration;
using SqueezeNext.Vision.Model;

namespace SqueezeNext.WorkerHost.Catalog;

/// <summary>Writes the named configurations this worker knows into the database at start, for the dashboard's forms and the API.</summary>
public sealed class ConfigurationPublisher(IServiceScopeFactory scopes, ILogger<ConfigurationPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var entries = ConfigurationCatalog.All.Select((configuration, position) =>
            {
                var summary = NetworkSummary.For(NetworkPlan.For(configuration.Architecture));
                return new ConfigurationEntry
                {
                    Name = configuration.Name, Description = configuration.Description, Source = configuration.Source,
                    Json = ConfigurationJson.Serialize(configuration), Parameters = summary.Parameters, Macs = summary.Macs, Position = position,
                };
            }).ToList();
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(stoppingToken);
            await db.Configurations.ExecuteDeleteAsync(stoppingToken);
            db.Configurations.AddRange(entries);
            await db.SaveChangesAsync(stoppingToken);
            await transaction.CommitAsync(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Several workers starting at once may race here; one of them wins, which is enough.
            logger.LogInformation("Configurations not published by this worker: {Message}", e.Message);
        }
    }
}
