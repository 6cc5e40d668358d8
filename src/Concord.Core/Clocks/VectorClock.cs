namespace Concord.Core.Clocks;

/// <summary>
/// An immutable vector clock (Fidge 1988; Mattern 1989) with value equality: node to the number of
/// that node's events in the causal past. Absent nodes count zero.
/// </summary>
/// <remarks>
/// <para><b>Pruning.</b> <see cref="Prune"/> bounds the size by keeping the entries with the largest
/// counters (the most active writers, the ones most likely to write again) and marks the result
/// <see cref="IsPruned"/>. A pruned clock is only a lower bound of the true one: its dropped
/// entries are unknown. So <see cref="Compare"/> never certifies that a pruned clock is
/// before-or-equal anything (the dropped entries might not be covered), while it can still be
/// after an exact clock whose counters its recorded ones exceed somewhere (recorded counters equal
/// to the exact clock's may hide an Equal: Concurrent). The consequence is the safe one: pruning
/// can turn an ordering into a false concurrency (an extra sibling), never into a false ordering
/// (a silently discarded write). Even a
/// pruned clock compared with itself is Concurrent: two different histories can prune to the same
/// entries. <see cref="Equals(VectorClock)"/> stays structural.</para>
/// <para>Dropping entries without the mark, as Riak's vclock pruning did, is not safe: <c>{a:1,
/// b:1}</c> pruned to <c>{a:1}</c> looks older than the concurrent <c>{a:2}</c>, and a store would
/// discard it. The tests keep that counterexample as a negative control.</para>
/// </remarks>
public sealed class VectorClock : IEquatable<VectorClock>
{
    private readonly CounterMap _counters;

    private VectorClock(CounterMap counters, bool isPruned)
    {
        _counters = counters;
        IsPruned = isPruned;
    }

    public static VectorClock Empty { get; } = new(CounterMap.Empty, isPruned: false);

    /// <summary>True when entries were dropped by <see cref="Prune"/> here or in a merged ancestor.</summary>
    public bool IsPruned { get; }

    /// <summary>Non-zero entries, sorted by node.</summary>
    public ReadOnlySpan<KeyValuePair<NodeId, ulong>> Entries => _counters.Entries;

    public int Count => _counters.Count;

    /// <summary>The counter of <paramref name="node"/>; zero when absent.</summary>
    public ulong this[NodeId node] => _counters.Get(node);

    internal CounterMap Counters => _counters;

    /// <summary>An exact (unpruned) clock; zero counters are dropped, duplicate nodes rejected.</summary>
    public static VectorClock From(IEnumerable<KeyValuePair<NodeId, ulong>> entries) =>
        new(CounterMap.From(entries), isPruned: false);

    internal static VectorClock FromCounters(CounterMap counters) => new(counters, isPruned: false);

    /// <summary>Records one more event of <paramref name="node"/>.</summary>
    public VectorClock Increment(NodeId node) =>
        new(_counters.Set(node, checked(_counters.Get(node) + 1)), IsPruned);

    /// <summary>Pointwise maximum: the causal past of both.</summary>
    public VectorClock Merge(VectorClock other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CounterMap merged = _counters.MergeMax(other._counters);
        bool isPruned = IsPruned || other.IsPruned;
        if (isPruned == IsPruned && merged.SharesStorageWith(_counters))
        {
            return this;
        }

        return isPruned == other.IsPruned && merged.SharesStorageWith(other._counters) ? other : new VectorClock(merged, isPruned);
    }

    /// <summary>
    /// Before when this clock's history is a strict subset of <paramref name="other"/>'s; see the
    /// remarks for how pruned clocks compare.
    /// </summary>
    public CausalOrder Compare(VectorClock other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _counters.Compare(other._counters, out bool lessOrEqual, out bool greaterOrEqual, out _);
        // A pruned clock's true counters are at least its recorded ones. So "a ≤ b" is certain only
        // when a is exact, and "a < b" only when b's recorded counters already exceed a's somewhere:
        // equal recorded counters with a pruned side may hide Equal as well as Before or After.
        bool certainlyLessOrEqual = lessOrEqual && !IsPruned;
        bool certainlyGreaterOrEqual = greaterOrEqual && !other.IsPruned;
        return (certainlyLessOrEqual, certainlyGreaterOrEqual) switch
        {
            (true, true) => CausalOrder.Equal,
            (true, false) when !greaterOrEqual => CausalOrder.Before,
            (false, true) when !lessOrEqual => CausalOrder.After,
            _ => CausalOrder.Concurrent,
        };
    }

    /// <summary>
    /// True when every event of <paramref name="other"/> is certainly in this clock's history (After
    /// or Equal, and also a pruned clock whose recorded counters cover an exact one).
    /// </summary>
    public bool Descends(VectorClock other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _counters.Compare(other._counters, out _, out bool greaterOrEqual, out _);
        return greaterOrEqual && !other.IsPruned;
    }

    /// <summary>
    /// Keeps at most <paramref name="maxEntries"/> entries, those with the largest counters (ties keep
    /// the smaller node id), and marks the result pruned if anything was dropped.
    /// </summary>
    public VectorClock Prune(int maxEntries)
    {
        if (maxEntries < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "maxEntries must be at least 1.");
        }

        if (Count <= maxEntries)
        {
            return this;
        }

        KeyValuePair<NodeId, ulong>[] kept = Entries.ToArray()
            .OrderByDescending(e => e.Value)
            .ThenBy(e => e.Key)
            .Take(maxEntries)
            .OrderBy(e => e.Key)
            .ToArray();
        return new VectorClock(CounterMap.FromSortedUnchecked(kept), isPruned: true);
    }

    public bool Equals(VectorClock? other) =>
        other is not null && IsPruned == other.IsPruned && _counters.Equals(other._counters);

    public override bool Equals(object? obj) => Equals(obj as VectorClock);

    public override int GetHashCode() => HashCode.Combine(_counters, IsPruned);

    /// <summary><c>{n1:3, n2:5}</c>, with a trailing <c>~pruned</c> for pruned clocks.</summary>
    public override string ToString() =>
        _counters.ToString() + (IsPruned ? "~pruned" : string.Empty);

    public static bool operator ==(VectorClock? left, VectorClock? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(VectorClock? left, VectorClock? right) => !(left == right);
}
