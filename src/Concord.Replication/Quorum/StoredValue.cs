using System.Collections.Immutable;
using Concord.Core;
using Concord.Core.Checksums;
using Concord.Core.Clocks;
using Concord.Core.Crdts;

namespace Concord.Replication.Quorum;

/// <summary>How replicas order or combine the versions of a key.</summary>
public enum VersionMode
{
    /// <summary>Cassandra: each write carries an HLC timestamp; the largest (timestamp, writer) wins. Clock skew silently discards writes.</summary>
    LastWriteWins,

    /// <summary>Riak: dotted version vectors; concurrent writes become siblings returned to the client. Writes are coordinated by a replica.</summary>
    DottedVersionVectors,

    /// <summary>Riak data types: a PN-counter or an OR-set per key, merged by join. Updates are coordinated by a replica.</summary>
    Crdt,
}

/// <summary>
/// A replica's state for one key. Every variant's <see cref="Merge"/> is a join (commutative,
/// associative, idempotent), so read repair, hinted handoff and anti-entropy can deliver copies in
/// any order, any number of times. Immutable: copies are shared by reference between nodes.
/// </summary>
public abstract record StoredValue
{
    public abstract StoredValue Merge(StoredValue other);

    /// <summary>What a read returns: no values (never written), one, or several siblings / set elements.</summary>
    public abstract ImmutableArray<long> Values { get; }

    /// <summary>A 128-bit hash of the state for Merkle trees: equal states hash equally on every replica.</summary>
    public UInt128 Fingerprint(string key)
    {
        var hasher = new RowHasher();
        hasher.AddString(key);
        AddTo(hasher);
        return hasher.Finish();
    }

    protected abstract void AddTo(RowHasher hasher);

    protected static InvalidOperationException Mismatch(StoredValue a, StoredValue b) =>
        new($"Cannot merge a {a.GetType().Name} with a {b.GetType().Name}: replicas of one key must use one version mode.");
}

/// <summary>A last-write-wins cell: (timestamp, writer) orders writes, ties cannot happen between distinct writes.</summary>
public sealed record LwwValue(HlcTimestamp Timestamp, NodeId Writer, long Value) : StoredValue
{
    public override ImmutableArray<long> Values => [Value];

    public override StoredValue Merge(StoredValue other)
    {
        if (other is not LwwValue theirs)
        {
            throw Mismatch(this, other);
        }

        int order = Timestamp != theirs.Timestamp ? Timestamp.CompareTo(theirs.Timestamp) : Writer.CompareTo(theirs.Writer);
        // One writer never issues one HLC timestamp twice, so equal (timestamp, writer) is one write.
        Invariant.Assert(order != 0 || Value == theirs.Value);
        return order >= 0 ? this : theirs;
    }

    protected override void AddTo(RowHasher hasher)
    {
        hasher.AddInt64((long)Timestamp.Pack());
        hasher.AddInt64(Writer.Value);
        hasher.AddInt64(Value);
    }
}

/// <summary>Concurrent siblings under dotted version vectors; merge keeps every write no other write has seen.</summary>
public sealed record SiblingsValue(DvvSet<long> Set) : StoredValue
{
    public override ImmutableArray<long> Values => [.. Set.Values];

    public VectorClock Context => Set.Context();

    public override StoredValue Merge(StoredValue other) => other is SiblingsValue theirs
        ? new SiblingsValue(Set.Merge(theirs.Set))
        : throw Mismatch(this, other);

    protected override void AddTo(RowHasher hasher)
    {
        foreach (Versioned<long> sibling in Set.Siblings) // sorted by dot
        {
            hasher.AddInt64(sibling.Version.Dot.Node.Value);
            hasher.AddInt64((long)sibling.Version.Dot.Counter);
            hasher.AddInt64(sibling.Value);
        }
    }
}

/// <summary>A PN-counter; a read returns its value.</summary>
public sealed record CounterValue(PNCounter Counter) : StoredValue
{
    public override ImmutableArray<long> Values => [Counter.Value];

    public override StoredValue Merge(StoredValue other) => other is CounterValue theirs
        ? new CounterValue(Counter.Merge(theirs.Counter))
        : throw Mismatch(this, other);

    // The counter's text lists its per-replica entries in node order, a canonical form.
    protected override void AddTo(RowHasher hasher) => hasher.AddString(Counter.ToString());
}

/// <summary>An add-wins OR-set of integers; a read returns the elements in ascending order.</summary>
public sealed record SetValue(ORSet<long> Set) : StoredValue
{
    public override ImmutableArray<long> Values => [.. Set.Elements.Order()];

    public override StoredValue Merge(StoredValue other) => other is SetValue theirs
        ? new SetValue(Set.Merge(theirs.Set))
        : throw Mismatch(this, other);

    protected override void AddTo(RowHasher hasher)
    {
        // Elements only: replicas whose causal contexts differ but hold the same elements look equal,
        // so anti-entropy repairs what a reader can see and leaves context-only gaps to later merges.
        foreach (long element in Set.Elements.Order())
        {
            hasher.AddInt64(element);
        }
    }
}
