using Concord.Core.Clocks;

namespace Concord.Core.Crdts;

/// <summary>
/// Counter that goes up and down: one <see cref="GCounter"/> of increments and one of decrements;
/// the value is their difference.
/// </summary>
public sealed class PNCounter : IStateCrdt<PNCounter>
{
    private readonly GCounter _increments;
    private readonly GCounter _decrements;

    private PNCounter(GCounter increments, GCounter decrements)
    {
        _increments = increments;
        _decrements = decrements;
    }

    public static PNCounter Empty { get; } = new(GCounter.Empty, GCounter.Empty);

    /// <summary>Increments minus decrements; throws <see cref="OverflowException"/> outside the range of long.</summary>
    public long Value => checked((long)((Int128)_increments.Value - _decrements.Value));

    public DeltaMutation<PNCounter> Increment(NodeId replica, ulong amount = 1)
    {
        var (state, delta) = _increments.Increment(replica, amount);
        return new(new PNCounter(state, _decrements), new PNCounter(delta, GCounter.Empty));
    }

    public DeltaMutation<PNCounter> Decrement(NodeId replica, ulong amount = 1)
    {
        var (state, delta) = _decrements.Increment(replica, amount);
        return new(new PNCounter(_increments, state), new PNCounter(GCounter.Empty, delta));
    }

    public PNCounter Merge(PNCounter other)
    {
        ArgumentNullException.ThrowIfNull(other);
        GCounter increments = _increments.Merge(other._increments);
        GCounter decrements = _decrements.Merge(other._decrements);
        return ReferenceEquals(increments, _increments) && ReferenceEquals(decrements, _decrements)
            ? this
            : new PNCounter(increments, decrements);
    }

    public bool Equals(PNCounter? other) =>
        other is not null && _increments.Equals(other._increments) && _decrements.Equals(other._decrements);

    public override bool Equals(object? obj) => Equals(obj as PNCounter);

    public override int GetHashCode() => HashCode.Combine(_increments, _decrements);

    public override string ToString() => "PNCounter(+" + _increments + ", -" + _decrements + ")";
}
