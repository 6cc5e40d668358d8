using Concord.Core.Clocks;

namespace Concord.Core.Crdts;

/// <summary>
/// Grow-only counter: each replica counts its own increments; merge takes the pointwise maximum;
/// the value is the sum. Its state is a version vector in all but name.
/// </summary>
public sealed class GCounter : IStateCrdt<GCounter>
{
    private readonly CounterMap _counts;

    private GCounter(CounterMap counts) => _counts = counts;

    public static GCounter Empty { get; } = new(CounterMap.Empty);

    /// <summary>The sum of every replica's increments; throws <see cref="OverflowException"/> past 2^64 - 1.</summary>
    public ulong Value => _counts.Sum();

    /// <summary>Per-replica totals, sorted by replica.</summary>
    public ReadOnlySpan<KeyValuePair<NodeId, ulong>> Entries => _counts.Entries;

    /// <summary>The total of <paramref name="replica"/>'s increments seen so far.</summary>
    public ulong CountOf(NodeId replica) => _counts.Get(replica);

    /// <summary>Adds <paramref name="amount"/> at <paramref name="replica"/>; the delta holds that replica's new total.</summary>
    public DeltaMutation<GCounter> Increment(NodeId replica, ulong amount = 1)
    {
        if (amount == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), amount, "amount must be at least 1.");
        }

        ulong total = checked(_counts.Get(replica) + amount);
        var delta = new GCounter(CounterMap.Empty.Set(replica, total));
        return new DeltaMutation<GCounter>(new GCounter(_counts.Set(replica, total)), delta);
    }

    public GCounter Merge(GCounter other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CounterMap merged = _counts.MergeMax(other._counts);
        return merged.SharesStorageWith(_counts) ? this : merged.SharesStorageWith(other._counts) ? other : new GCounter(merged);
    }

    public bool Equals(GCounter? other) => other is not null && _counts.Equals(other._counts);

    public override bool Equals(object? obj) => Equals(obj as GCounter);

    public override int GetHashCode() => _counts.GetHashCode();

    public override string ToString() => "GCounter" + _counts;
}
