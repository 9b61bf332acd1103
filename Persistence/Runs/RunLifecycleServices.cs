using Microsoft.Extensions.DependencyInjection;

namespace SqueezeNext.Persistence.Runs;

/// <summary>The one way to get a <see cref="RunLifecycle"/>: from a service scope, on that scope's database context.</summary>
public static class RunLifecycleServices
{
    /// <summary>Registers <see cref="RunLifecycle"/> as a scoped service (a message consumer's scope, or one made by <see cref="UseRunLifecycleAsync"/>).</summary>
    public static IServiceCollection AddRunLifecycle(this IServiceCollection services) =>
        services.AddScoped(provider => new RunLifecycle(provider.GetRequiredService<JobsDbContext>()));

    /// <summary>
    /// For a long-lived service: a lifecycle on a scope and context of its own for one piece of work, so that a failed
    /// write never leaves a context in a bad state for the next.
    /// </summary>
    public static async Task<T> UseRunLifecycleAsync<T>(this IServiceScopeFactory scopes, Func<RunLifecycle, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<RunLifecycle>());
    }
}
