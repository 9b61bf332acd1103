using SqueezeNext.Dashboard;

var builder = WebApplication.CreateBuilder(args);
builder.AddDashboardServices();

var app = builder.Build();
app.UseDashboard();
await app.PrepareDatabaseAsync();
await app.RunAsync();
