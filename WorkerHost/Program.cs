using SqueezeNext.WorkerHost;

var builder = WebApplication.CreateBuilder(args);
builder.AddWorkerServices();

var app = builder.Build();
app.MapWorkerEndpoints();
await app.MigrateDatabaseAsync();
app.ConfigureTorch();
await app.RunAsync();
