namespace Concord.Core;

/// <summary>
/// Identifies a replica, node or writer in clocks and CRDTs. Ordered by <see cref="Value"/>, which
/// is what breaks ties in <see cref="Crdts.LwwRegister{T}"/> and orders vector clock entries.
/// </summary>
public readonly record struct NodeId(uint Value) : IComparable<NodeId>
{
    public int CompareTo(NodeId other) => Value.CompareTo(other.Value);

    public static bool operator <(NodeId left, NodeId right) => left.Value < right.Value;

    public static bool operator >(NodeId left, NodeId right) => left.Value > right.Value;

    public static bool operator <=(NodeId left, NodeId right) => left.Value <= right.Value;

    public static bool operator >=(NodeId left, NodeId right) => left.Value >= right.Value;

    public override string ToString() => "n" + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
