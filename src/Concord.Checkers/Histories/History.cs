namespace Concord.Checkers.Histories;

/// <summary>
/// A recorded concurrent history: the raw <see cref="Events"/> in recorded order and the
/// <see cref="Operations"/> made by pairing each invoke with its process's next completion.
/// Build one with <see cref="HistoryBuilder"/> or read one with <see cref="Formats.HistoryReader"/>.
/// </summary>
public sealed class History
{
    internal History(
        IReadOnlyList<HistoryEvent> events,
        IReadOnlyList<Operation> operations,
        HistoryTimeUnit timeUnit,
        string? source)
    {
        Events = events;
        Operations = operations;
        TimeUnit = timeUnit;
        Source = source;
        for (var i = 0; i < operations.Count; i++)
        {
            Invariant.Assert(operations[i].Id == i, "operation ids are their indexes");
            Invariant.Assert(i == 0 || operations[i - 1].InvokeTime <= operations[i].InvokeTime, "operations are in invoke order");
        }
    }

    /// <summary>Every event in recorded order; times never decrease.</summary>
    public IReadOnlyList<HistoryEvent> Events { get; }

    /// <summary>Paired operations in invoke order; <c>Operations[i].Id == i</c>.</summary>
    public IReadOnlyList<Operation> Operations { get; }

    public HistoryTimeUnit TimeUnit { get; }

    /// <summary>Where the history came from (a file name), for reports; null when built in memory.</summary>
    public string? Source { get; }
}
