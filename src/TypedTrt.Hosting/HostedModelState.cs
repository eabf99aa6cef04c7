namespace TypedTrt.Hosting;

/// <summary>Where a hosted model is in its life.</summary>
public enum HostedModelState
{
    /// <summary>Registered; the host has not started loading it.</summary>
    NotStarted,

    /// <summary>The engine is loading, the runner being created or warmed up.</summary>
    Loading,

    /// <summary>Loaded and warmed up: serving requests.</summary>
    Ready,

    /// <summary>The host is shutting down: requests in flight finish, new ones should go elsewhere.</summary>
    Draining,

    /// <summary>The runner and engine were disposed.</summary>
    Stopped,

    /// <summary>Loading failed (<see cref="HostedModel.Error"/>); the host did not start.</summary>
    Failed,

    /// <summary>A request hit a sticky CUDA error (<see cref="HostedModel.Error"/>): the CUDA context is lost and the process must be restarted.</summary>
    Faulted,
}
