using Concord.Checkers.Histories;
using Concord.Simulation.History;

namespace Concord.Experiments;

/// <summary>What a recorded operation is, in the checkers' terms.</summary>
public readonly record struct CheckedOperation(string Function, OperationValue Input, string? Key);

/// <summary>
/// Turns the simulator's recorded entries (invoke and completion times in simulated µs) into a
/// Concord.Checkers history, for every experiment alike: events in time order, and at equal times
/// completions before invocations, so a process's next invoke never precedes its last completion.
/// </summary>
public static class RecordedHistory
{
    /// <param name="describe">The function, input and key of an operation.</param>
    /// <param name="output">The value an acknowledged operation returned (null when it returns none, e.g. a write).</param>
    public static History ToHistory<TOperation, TResult>(
        IReadOnlyList<HistoryEntry<TOperation, TResult>> entries,
        string source,
        Func<TOperation, CheckedOperation> describe,
        Func<TOperation, TResult?, OperationValue?> output)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var events = new List<(long Time, int Order, int Index, bool Invoke)>(entries.Count * 2);
        for (int i = 0; i < entries.Count; i++)
        {
            events.Add((entries[i].InvokeUs, 1, i, true));
            if (entries[i].CompleteUs is { } complete)
            {
                events.Add((complete, 0, i, false));
            }
        }

        events.Sort();
        var builder = new HistoryBuilder(HistoryTimeUnit.Microseconds);
        foreach ((long time, _, int index, bool invoke) in events)
        {
            HistoryEntry<TOperation, TResult> entry = entries[index];
            if (invoke)
            {
                CheckedOperation op = describe(entry.Operation);
                builder.Invoke(entry.Process, op.Function, op.Input, op.Key, time);
                continue;
            }

            switch (entry.Completion)
            {
                case CompletionType.Ok:
                    builder.Ok(entry.Process, output(entry.Operation, entry.Result), time);
                    break;
                case CompletionType.Fail:
                    builder.Fail(entry.Process, time);
                    break;
                default:
                    builder.Info(entry.Process, time);
                    break;
            }
        }

        return builder.Build(source);
    }
}
