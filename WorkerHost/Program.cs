using SqueezeNext.WorkerHost;

var builder = WebApplication.CreateBuilder(args);
builder.AddWorkerServices();

var app = builder.Build();
app.MapWorkerEndpoints();
app.ConfigureTorch();
await app.MigrateDatabaseAsync();
await app.RunAsync();
