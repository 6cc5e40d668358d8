namespace Concord.Core.Clocks;

/// <summary>
/// A dotted version vector (Preguiça, Baquero, Almeida, Fonte and Gonçalves, "Dotted Version
/// Vectors: Logical Clocks for Optimistic Replication", 2010): the <see cref="Dot"/> naming one
/// write plus the <see cref="Past"/> it causally follows. Its history is the dot together with every
/// event in the past, and may have a gap: <c>(a:5, {a:3})</c> holds a:1..3 and a:5 but not a:4, which
/// is how it records that a write is concurrent with a:4 without a per-client entry. That keeps
/// clocks bounded by the number of servers, not clients, in a Dynamo-style store.
/// </summary>
public sealed class DottedVersionVector : IEquatable<DottedVersionVector>
{
    public DottedVersionVector(Dot dot, VectorClock past)
    {
        ArgumentNullException.ThrowIfNull(past);
        if (past.IsPruned)
        {
            throw new ArgumentException("The causal past of a dotted version vector must be exact, not pruned.", nameof(past));
        }

        if (past[dot.Node] >= dot.Counter)
        {
            throw new ArgumentException($"Dot {dot} is already inside its causal past {past}; a dot names a new event.", nameof(dot));
        }

        Dot = dot;
        Past = past;
    }

    public Dot Dot { get; }

    public VectorClock Past { get; }

    /// <summary>True when <paramref name="dot"/> is in this history.</summary>
    public bool Contains(Dot dot) => dot == Dot || dot.Counter <= Past[dot.Node];

    /// <summary>True when every event of <paramref name="other"/> is in this history.</summary>
    public bool Descends(DottedVersionVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Contains(other.Dot))
        {
            return false;
        }

        foreach (var (node, counter) in other.Past.Entries)
        {
            if (counter > ContiguousPrefix(node))
            {
                return false;
            }
        }

        return true;
    }

    public CausalOrder Compare(DottedVersionVector other) => (other.Descends(this), Descends(other)) switch
    {
        (true, true) => CausalOrder.Equal,
        (true, false) => CausalOrder.Before,
        (false, true) => CausalOrder.After,
        _ => CausalOrder.Concurrent,
    };

    /// <summary>
    /// The smallest version vector holding this history: the past with the dot's node raised to the
    /// dot (filling any gap). It is what a client receives as the context of a read.
    /// </summary>
    public VectorClock ToVectorClock() => VectorClock.FromCounters(Past.Counters.Set(Dot.Node, Dot.Counter));

    /// <summary>The paper's join: a version vector covering both histories.</summary>
    public VectorClock Merge(DottedVersionVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ToVectorClock().Merge(other.ToVectorClock());
    }

    /// <summary>True when the whole history is inside the version vector <paramref name="context"/>.</summary>
    public bool IsCoveredBy(VectorClock context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Dot.Counter <= context[Dot.Node] && context.Descends(Past);
    }

    public bool Equals(DottedVersionVector? other) => other is not null && Dot == other.Dot && Past.Equals(other.Past);

    public override bool Equals(object? obj) => Equals(obj as DottedVersionVector);

    public override int GetHashCode() => HashCode.Combine(Dot, Past);

    /// <summary><c>(n1:5, {n1:3, n2:1})</c></summary>
    public override string ToString() => "(" + Dot + ", " + Past + ")";

    public static bool operator ==(DottedVersionVector? left, DottedVersionVector? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(DottedVersionVector? left, DottedVersionVector? right) => !(left == right);

    /// <summary>How many of <paramref name="node"/>'s events, from 1, this history holds without a gap.</summary>
    private ulong ContiguousPrefix(NodeId node)
    {
        ulong past = Past[node];
        return node == Dot.Node && Dot.Counter == past + 1 ? Dot.Counter : past;
    }
}
