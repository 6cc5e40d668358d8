namespace Concord.Checkers.Histories;

/// <summary>The four kinds of history event, as in Jepsen.</summary>
public enum EventType
{
    /// <summary>A client started an operation.</summary>
    Invoke,

    /// <summary>The operation completed and took effect.</summary>
    Ok,

    /// <summary>The operation definitely did not take effect.</summary>
    Fail,

    /// <summary>The client does not know whether the operation took effect (timeout, crash).</summary>
    Info,
}

/// <summary>
/// One line of a recorded history. <paramref name="Line"/> is the 1-based source line when the
/// event was read from a file, so reports can point back at it.
/// </summary>
public sealed record HistoryEvent(
    int Process,
    EventType Type,
    string Function,
    string? Key,
    OperationValue Value,
    long Time,
    int? Line = null);
