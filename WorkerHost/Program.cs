using SqueezeNext.ServiceDefaults.Database;
using SqueezeNext.ServiceDefaults.Hosting;
using SqueezeNext.WorkerHost;

return await ServiceHost.RunAsync("worker", args, builder => builder.AddWorkerServices(), async app =>
{
    app.MapWorkerEndpoints();
    app.ConfigureTorch();
    await app.MigrateJobsDatabaseAsync();
});
