namespace SqueezeNext.Dashboard.Live;

/// <summary>
/// Fans the workers' run events out to the open pages of this dashboard instance. Pages subscribe while they are
/// shown, call <c>InvokeAsync(StateHasChanged)</c> from the handler, and unsubscribe on dispose.
/// </summary>
public sealed class RunNotifier
{
    public event Action<Guid, object>? RunChanged;

    public void Publish(Guid runId, object message) => RunChanged?.Invoke(runId, message);
}
