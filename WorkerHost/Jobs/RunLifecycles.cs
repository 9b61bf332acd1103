namespace SqueezeNext.WorkerHost.Jobs;

/// <summary>
/// Gives the worker's long-lived services a <see cref="RunLifecycle"/> for one piece of work at a time, each on a
/// database context of its own, so that a failed write never leaves a context in a bad state for the next.
/// </summary>
public sealed class RunLifecycles(IServiceScopeFactory scopes)
{
    public async Task<T> UseAsync<T>(Func<RunLifecycle, Task<T>> action)
    {
        using var scope = scopes.CreateScope();
        return await action(new RunLifecycle(scope.ServiceProvider.GetRequiredService<JobsDbContext>()));
    }
}
