using Concord.Checkers.Histories;

namespace Concord.Checkers.Linearizability;

internal enum SearchVerdict
{
    Linearizable,
    NotLinearizable,
    OutOfBudget,
    CacheFull,
}

/// <summary>
/// What one partition's search found. For <see cref="SearchVerdict.Linearizable"/>,
/// <see cref="Order"/> is a witness linearization; otherwise it is the longest linearizable
/// prefix seen, <see cref="Blocker"/> the operation whose return the search could not get past
/// from there and <see cref="Candidates"/> every operation that could have been placed next.
/// Indices are partition-local.
/// </summary>
internal sealed record SearchOutcome(
    SearchVerdict Verdict,
    long Steps,
    int CachedStates,
    long CacheBytes,
    int[] Order,
    int Blocker,
    int[] Candidates);

/// <summary>
/// Wing and Gong's linearizability search with Lowe's state cache, as in Porcupine.
///
/// Every operation contributes a call entry and, unless indeterminate, a return entry; entries
/// sit in a doubly-linked list in time order (calls before returns at equal times, so touching
/// operations count as concurrent). The search walks the list from the front: at a call it tries
/// to apply the operation to the model; on success, and if (linearized set, new state) was not
/// seen before, it "lifts" the operation's entries out of the list and restarts from the front.
/// Reaching a return means that operation could not be placed before it returned: backtrack by
/// popping the last linearized operation, "unlifting" its entries (dancing links: restored in
/// reverse order of removal) and trying the next call after it. Reaching the end of the list
/// means every determinate operation is linearized: an indeterminate operation has no return
/// entry, so it may be placed at any point after its invoke, or left out when the list runs out.
///
/// The hot loop allocates nothing: entries are parallel int arrays, the linearized set is a
/// bitset with a Zobrist hash updated in O(1), and the cache stores bitsets in one arena.
/// </summary>
internal sealed class LinearizationSearch<TState, TOperation>
{
    private const int Head = 0;

    private readonly Model<TState, TOperation> model;
    private readonly TOperation[] decoded;
    private readonly int operationCount;
    private readonly int tail;
    private readonly int[] next;
    private readonly int[] prev;
    private readonly int[] entryOperation;
    private readonly bool[] entryIsCall;
    private readonly int[] returnEntryOfCall;
    private readonly ulong[] zobristKeys;

    private int bestDepth = -1;
    private int[] bestOrder = [];
    private int bestBlocker = -1;
    private int[] bestCandidates = [];

    public LinearizationSearch(Model<TState, TOperation> model, IReadOnlyList<Operation> operations, TOperation[] decoded)
    {
        Invariant.Assert(operations.Count == decoded.Length, "one decoded operation per operation");
        this.model = model;
        this.decoded = decoded;
        operationCount = operations.Count;

        var entries = new List<(long Time, int ReturnOrder, int Operation)>(operationCount * 2);
        for (var i = 0; i < operationCount; i++)
        {
            var operation = operations[i];
            Invariant.Assert(operation.Outcome != OperationOutcome.Fail, "failed operations are dropped before the search");
            entries.Add((operation.InvokeTime, 0, i));
            if (!operation.IsIndeterminate)
            {
                var completeTime = operation.CompleteTime!.Value;
                Invariant.Assert(completeTime >= operation.InvokeTime, "an operation completes after it is invoked");
                entries.Add((completeTime, 1, i));
            }
        }

        entries.Sort();
        tail = entries.Count + 1;
        next = new int[entries.Count + 2];
        prev = new int[entries.Count + 2];
        entryOperation = new int[entries.Count + 2];
        entryIsCall = new bool[entries.Count + 2];
        returnEntryOfCall = new int[entries.Count + 2];
        Array.Fill(returnEntryOfCall, -1);
        var callEntryOf = new int[operationCount];
        Array.Fill(callEntryOf, -1);
        for (var k = 0; k < entries.Count; k++)
        {
            var entry = k + 1;
            var (_, returnOrder, operation) = entries[k];
            entryOperation[entry] = operation;
            entryIsCall[entry] = returnOrder == 0;
            if (returnOrder == 0)
            {
                callEntryOf[operation] = entry;
            }
            else
            {
                Invariant.Assert(callEntryOf[operation] > 0, "a call entry precedes its return entry");
                returnEntryOfCall[callEntryOf[operation]] = entry;
            }
        }

        for (var entry = 0; entry <= tail; entry++)
        {
            next[entry] = entry + 1;
            prev[entry] = entry - 1;
        }

        zobristKeys = new ulong[operationCount];
        for (var i = 0; i < operationCount; i++)
        {
            zobristKeys[i] = StateCache<TState>.Mix(0x5EED_0F_C0C0A1UL + ((ulong)i * 0x9E3779B97F4A7C15UL));
        }
    }

    public SearchOutcome Run(BudgetMeter meter)
    {
        var step = model.Step;
        var words = Math.Max(1, (operationCount + 63) >> 6);
        var linearized = new ulong[words];
        var linearizedHash = 0UL;
        var cache = new StateCache<TState>(words, model.StateComparer, meter.MaxCacheBytes);
        var stackEntry = new int[operationCount];
        var stackState = new TState[operationCount];
        var depth = 0;
        var state = model.Init;
        long steps = 0;
        var checkpoint = meter.NextCheckpoint(0);

        var entry = next[Head];
        while (true)
        {
            if (entry == tail)
            {
                return Outcome(SearchVerdict.Linearizable, steps, cache, OrderOf(stackEntry, depth));
            }

            if (entryIsCall[entry])
            {
                var operation = entryOperation[entry];
                if (++steps >= checkpoint)
                {
                    if (!meter.Continue(steps))
                    {
                        return Outcome(SearchVerdict.OutOfBudget, steps, cache, bestOrder);
                    }

                    checkpoint = meter.NextCheckpoint(steps);
                }

                if (step(state, in decoded[operation], out var nextState))
                {
                    var bit = 1UL << (operation & 63);
                    linearized[operation >> 6] |= bit;
                    linearizedHash ^= zobristKeys[operation];
                    var added = cache.TryAdd(linearized, linearizedHash, nextState);
                    if (added == StateCache<TState>.AddResult.Added)
                    {
                        stackEntry[depth] = entry;
                        stackState[depth] = state;
                        depth++;
                        state = nextState;
                        Lift(entry);
                        entry = next[Head];
                        continue;
                    }

                    linearized[operation >> 6] &= ~bit;
                    linearizedHash ^= zobristKeys[operation];
                    if (added == StateCache<TState>.AddResult.Full)
                    {
                        return Outcome(SearchVerdict.CacheFull, steps, cache, bestOrder);
                    }
                }

                entry = next[entry];
            }
            else
            {
                if (depth > bestDepth)
                {
                    RecordBest(entry, stackEntry, depth);
                }

                if (depth == 0)
                {
                    return Outcome(SearchVerdict.NotLinearizable, steps, cache, bestOrder);
                }

                depth--;
                var call = stackEntry[depth];
                state = stackState[depth];
                stackState[depth] = default!;
                var operation = entryOperation[call];
                linearized[operation >> 6] &= ~(1UL << (operation & 63));
                linearizedHash ^= zobristKeys[operation];
                Unlift(call);
                entry = next[call];
            }
        }
    }

    private SearchOutcome Outcome(SearchVerdict verdict, long steps, StateCache<TState> cache, int[] order) =>
        new(verdict, steps, cache.Count, cache.EstimatedBytes, order, bestBlocker, bestCandidates);

    private int[] OrderOf(int[] stackEntry, int depth)
    {
        var order = new int[depth];
        for (var i = 0; i < depth; i++)
        {
            order[i] = entryOperation[stackEntry[i]];
        }

        return order;
    }

    /// <summary>
    /// Remembers the deepest point where the search got stuck: the prefix, the operation whose
    /// return stopped it, and the calls before that return (all tried from this state and failed).
    /// Deepening happens at most once per operation, so the copying stays off the hot path.
    /// </summary>
    private void RecordBest(int returnEntry, int[] stackEntry, int depth)
    {
        bestDepth = depth;
        bestOrder = OrderOf(stackEntry, depth);
        bestBlocker = entryOperation[returnEntry];
        var candidates = new List<int>();
        for (var entry = next[Head]; entry != returnEntry; entry = next[entry])
        {
            Invariant.Assert(entryIsCall[entry], "only calls precede the first return in the list");
            candidates.Add(entryOperation[entry]);
        }

        Invariant.Assert(candidates.Contains(bestBlocker), "the blocked operation's call precedes its return");
        bestCandidates = [.. candidates];
    }

    private void Lift(int call)
    {
        Remove(call);
        var returnEntry = returnEntryOfCall[call];
        if (returnEntry >= 0)
        {
            Remove(returnEntry);
        }
    }

    private void Unlift(int call)
    {
        var returnEntry = returnEntryOfCall[call];
        if (returnEntry >= 0)
        {
            Restore(returnEntry);
        }

        Restore(call);
    }

    private void Remove(int entry)
    {
        next[prev[entry]] = next[entry];
        prev[next[entry]] = prev[entry];
    }

    private void Restore(int entry)
    {
        next[prev[entry]] = entry;
        prev[next[entry]] = entry;
    }
}
