using System.Globalization;
using Concord.Core;
using Concord.Simulation.Nodes;

namespace Concord.Simulation.History;

/// <summary>How an operation ended, as in Jepsen: <see cref="Info"/> means "may or may not have taken effect".</summary>
public enum CompletionType
{
    Ok,
    Fail,
    Info,
}

/// <summary>Names an invoked operation so that its completion can be recorded.</summary>
public readonly record struct OperationHandle(int Index);

/// <summary>
/// One client operation: invoked by <see cref="Process"/> at <see cref="InvokeUs"/>, completed at
/// <see cref="CompleteUs"/> (null while pending — a crashed client leaves it pending, which checkers
/// treat as indeterminate). Times are true simulated µs, not the client's skewed clock.
/// </summary>
public sealed class HistoryEntry<TOperation, TResult>
{
    internal HistoryEntry(int process, NodeId client, TOperation operation, long invokeUs)
    {
        Process = process;
        Client = client;
        Operation = operation;
        InvokeUs = invokeUs;
    }

    public int Process { get; }

    /// <summary>The client node that issued the operation.</summary>
    public NodeId Client { get; }

    public TOperation Operation { get; }

    public long InvokeUs { get; }

    public long? CompleteUs { get; private set; }

    /// <summary>Null while the operation is pending.</summary>
    public CompletionType? Completion { get; private set; }

    public TResult? Result { get; private set; }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"p{Process} {Operation} invoke={InvokeUs}us {(Completion is { } c ? $"{c} {Result} at {CompleteUs}us" : "pending")}");

    internal void Complete(CompletionType completion, TResult? result, long completeUs)
    {
        Completion = completion;
        Result = result;
        CompleteUs = completeUs;
    }
}

/// <summary>
/// Records the invoke/complete history of client operations for the checkers (Concord.Checkers owns
/// the file format; this is the in-memory record). Held outside the nodes — pass it to the client
/// node factory — so it survives client crashes. Times come from the simulator, never from a node's
/// clock. A process runs one operation at a time, as Jepsen requires; a client that may have lost a
/// pending operation (restart, timeout with <see cref="CompletionType.Info"/>) continues under a
/// fresh id from <see cref="NewProcess"/>.
/// </summary>
public sealed class HistoryRecorder<TOperation, TResult>
{
    private readonly List<HistoryEntry<TOperation, TResult>> _entries = [];
    private readonly Dictionary<int, int> _pendingByProcess = [];
    private readonly int _entriesMax;
    private int _nextProcess;

    public HistoryRecorder(int entriesMax = 10_000_000)
    {
        if (entriesMax < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(entriesMax), entriesMax, "entriesMax must be at least 1.");
        }

        _entriesMax = entriesMax;
    }

    /// <summary>Every operation in invoke order.</summary>
    public IReadOnlyList<HistoryEntry<TOperation, TResult>> Entries => _entries;

    public int PendingCount => _pendingByProcess.Count;

    /// <summary>A process id not handed out before by this recorder.</summary>
    public int NewProcess() => _nextProcess++;

    public OperationHandle Invoke<TMessage>(NodeContext<TMessage> context, int process, TOperation operation)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_pendingByProcess.TryGetValue(process, out int pending))
        {
            throw new InvalidOperationException($"Process {process} still has operation #{pending} pending; a process runs one operation at a time (use NewProcess after a crash or an Info completion).");
        }

        if (_entries.Count >= _entriesMax)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The history reached its bound of {_entriesMax} operations."));
        }

        int index = _entries.Count;
        _entries.Add(new HistoryEntry<TOperation, TResult>(process, context.Self, operation, context.SimTimeUs));
        _pendingByProcess.Add(process, index);
        _nextProcess = Math.Max(_nextProcess, process + 1);
        return new OperationHandle(index);
    }

    public void Complete<TMessage>(NodeContext<TMessage> context, OperationHandle operation, CompletionType completion, TResult? result = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (operation.Index < 0 || operation.Index >= _entries.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "Not an operation of this history.");
        }

        HistoryEntry<TOperation, TResult> entry = _entries[operation.Index];
        if (entry.Completion is not null)
        {
            throw new InvalidOperationException($"Operation #{operation.Index} completed twice ({entry.Completion}, then {completion}).");
        }

        Invariant.Assert(_pendingByProcess.Remove(entry.Process, out int pending) && pending == operation.Index);
        Invariant.Assert(context.SimTimeUs >= entry.InvokeUs);
        entry.Complete(completion, result, context.SimTimeUs);
    }
}
