using System.Globalization;

namespace Concord.Core.Clocks;

/// <summary>
/// One event: the <see cref="Counter"/>-th event of <see cref="Node"/>. Dots name writes in dotted
/// version vectors and elements in the add-wins set. Ordered by node, then counter.
/// </summary>
public readonly struct Dot : IEquatable<Dot>, IComparable<Dot>
{
    public Dot(NodeId node, ulong counter)
    {
        if (counter == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(counter), counter, "A dot's counter starts at 1; 0 means no event.");
        }

        Node = node;
        Counter = counter;
    }

    public NodeId Node { get; }

    public ulong Counter { get; }

    public int CompareTo(Dot other)
    {
        int byNode = Node.CompareTo(other.Node);
        return byNode != 0 ? byNode : Counter.CompareTo(other.Counter);
    }

    public bool Equals(Dot other) => Node == other.Node && Counter == other.Counter;

    public override bool Equals(object? obj) => obj is Dot other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Node, Counter);

    public override string ToString() => Node + ":" + Counter.ToString(CultureInfo.InvariantCulture);

    public static bool operator ==(Dot left, Dot right) => left.Equals(right);

    public static bool operator !=(Dot left, Dot right) => !left.Equals(right);

    public static bool operator <(Dot left, Dot right) => left.CompareTo(right) < 0;

    public static bool operator >(Dot left, Dot right) => left.CompareTo(right) > 0;

    public static bool operator <=(Dot left, Dot right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Dot left, Dot right) => left.CompareTo(right) >= 0;
}
