namespace Concord.Checkers.Histories;

/// <summary>
/// Records a history event by event and pairs each invoke with the same process's next
/// completion. Rejects what no real client can produce: a completion with no pending invoke,
/// a completion for another function or key, a second invoke while one is pending, time going
/// backwards. Used by the readers, the simulator and tests.
/// </summary>
public sealed class HistoryBuilder(HistoryTimeUnit timeUnit = HistoryTimeUnit.Sequence)
{
    private readonly List<HistoryEvent> events = [];
    private readonly List<Operation> operations = [];
    private readonly Dictionary<int, int> pendingOperationByProcess = [];
    private bool built;

    public HistoryTimeUnit TimeUnit { get; } = timeUnit;

    /// <summary>Records an invoke. Omitting <paramref name="time"/> uses the previous event's time plus one.</summary>
    public HistoryBuilder Invoke(int process, string function, OperationValue? value = null, string? key = null, long? time = null) =>
        AddOrThrow(new HistoryEvent(process, EventType.Invoke, function, key, value ?? OperationValue.Nil, time ?? NextTime()));

    /// <summary>Records that the process's pending operation took effect and returned <paramref name="value"/>
    /// (null: the same value as its invoke, as Jepsen records writes).</summary>
    public HistoryBuilder Ok(int process, OperationValue? value = null, long? time = null) =>
        Complete(process, EventType.Ok, value, time);

    /// <summary>Records that the process's pending operation definitely did not take effect.</summary>
    public HistoryBuilder Fail(int process, long? time = null) => Complete(process, EventType.Fail, null, time);

    /// <summary>Records that the process gave up on its pending operation without knowing its fate.</summary>
    public HistoryBuilder Info(int process, long? time = null) => Complete(process, EventType.Info, null, time);

    /// <summary>Records any event; see <see cref="HistoryBuilder"/> for what is rejected.</summary>
    public HistoryBuilder Add(HistoryEvent historyEvent) => AddOrThrow(historyEvent);

    /// <summary>Ends recording. Operations still pending stay indeterminate (<see cref="OperationOutcome.Pending"/>).</summary>
    public History Build(string? source = null)
    {
        if (built)
        {
            throw new InvalidOperationException("Build was already called on this HistoryBuilder.");
        }

        built = true;
        return new History(events.ToArray(), operations.ToArray(), TimeUnit, source);
    }

    /// <summary>Adds the event or returns why it cannot be added (used by readers to attach file and line).</summary>
    internal string? TryAdd(HistoryEvent historyEvent)
    {
        ArgumentNullException.ThrowIfNull(historyEvent);
        if (built)
        {
            return "the history was already built";
        }

        if (string.IsNullOrEmpty(historyEvent.Function))
        {
            return "the operation has no function";
        }

        if (events.Count > 0 && historyEvent.Time < events[^1].Time)
        {
            return $"time {historyEvent.Time} is before the previous event's time {events[^1].Time}";
        }

        var hasPending = pendingOperationByProcess.TryGetValue(historyEvent.Process, out var pendingId);
        if (historyEvent.Type == EventType.Invoke)
        {
            if (hasPending)
            {
                return $"process {historyEvent.Process} invoked {historyEvent.Function} while its {operations[pendingId].Function}" +
                       $"{LineSuffix(operations[pendingId].InvokeLine)} has not completed";
            }

            var id = operations.Count;
            operations.Add(new Operation(
                id, historyEvent.Process, historyEvent.Function, historyEvent.Key, historyEvent.Value, OperationValue.Nil,
                OperationOutcome.Pending, historyEvent.Time, null, historyEvent.Line, null));
            pendingOperationByProcess[historyEvent.Process] = id;
            events.Add(historyEvent);
            return null;
        }

        if (!hasPending)
        {
            return $"process {historyEvent.Process} completed {historyEvent.Function} but has no pending invoke";
        }

        var invoked = operations[pendingId];
        if (!string.Equals(invoked.Function, historyEvent.Function, StringComparison.Ordinal))
        {
            return $"process {historyEvent.Process} completed {historyEvent.Function} but invoked {invoked.Function}{LineSuffix(invoked.InvokeLine)}";
        }

        if (historyEvent.Key is not null && !string.Equals(invoked.Key, historyEvent.Key, StringComparison.Ordinal))
        {
            return $"process {historyEvent.Process} completed key {historyEvent.Key} but invoked key {invoked.Key ?? "(none)"}";
        }

        var outcome = historyEvent.Type switch
        {
            EventType.Ok => OperationOutcome.Ok,
            EventType.Fail => OperationOutcome.Fail,
            _ => OperationOutcome.Info,
        };
        operations[pendingId] = invoked with
        {
            Output = historyEvent.Value,
            Outcome = outcome,
            CompleteTime = historyEvent.Time,
            CompleteLine = historyEvent.Line,
        };
        pendingOperationByProcess.Remove(historyEvent.Process);
        events.Add(historyEvent with { Key = invoked.Key });
        return null;
    }

    private HistoryBuilder Complete(int process, EventType type, OperationValue? value, long? time)
    {
        var function = pendingOperationByProcess.TryGetValue(process, out var id) ? operations[id].Function : "?";
        var completionValue = value ?? (pendingOperationByProcess.ContainsKey(process) && type == EventType.Ok
            ? operations[id].Input
            : OperationValue.Nil);
        return AddOrThrow(new HistoryEvent(process, type, function, null, completionValue, time ?? NextTime()));
    }

    private HistoryBuilder AddOrThrow(HistoryEvent historyEvent)
    {
        var error = TryAdd(historyEvent);
        return error is null ? this : throw new InvalidOperationException(error);
    }

    private long NextTime() => events.Count == 0 ? 0 : events[^1].Time + 1;

    private static string LineSuffix(int? line) => line is { } l ? $" (line {l})" : "";
}
