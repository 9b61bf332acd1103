using SqueezeNext.Dashboard;
using SqueezeNext.ServiceDefaults.Hosting;

return await ServiceHost.RunAsync("dashboard", args, builder => builder.AddDashboardServices(), async app =>
{
    app.UseDashboard();
    await app.PrepareDatabaseAsync();
});
