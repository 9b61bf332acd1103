using Microsoft.Extensions.Options;
using SqueezeNext.WorkerHost;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddWorkerServices();

    var app = builder.Build();
    app.MapWorkerEndpoints();
    app.ConfigureTorch();
    await app.MigrateDatabaseAsync();
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e.GetBaseException() is OptionsValidationException invalid)
{
    // A setting missing or out of range is the operator's to fix: one line naming it, not an unhandled-exception abort.
    Console.Error.WriteLine($"worker: refusing to start: {string.Join("; ", invalid.Failures)}");
    return 2;
}
