using Concord.Core.Clocks;

namespace Concord.Core.Crdts;

/// <summary>
/// A set of dots stored compactly (Almeida et al. 2018, section 7.1): a version vector for each
/// node's gap-free prefix plus a sorted "dot cloud" for the rest. Kept normalized (no cloud dot
/// inside or adjacent to its node's prefix), so equal sets have equal representations.
/// </summary>
internal sealed class CausalContext : IEquatable<CausalContext>
{
    private readonly CounterMap _prefix;
    private readonly Dot[] _cloud;

    private CausalContext(CounterMap prefix, Dot[] cloud)
    {
        _prefix = prefix;
        _cloud = cloud;
    }

    public static CausalContext Empty { get; } = new(CounterMap.Empty, []);

    public bool Contains(Dot dot) => dot.Counter <= _prefix.Get(dot.Node) || Array.BinarySearch(_cloud, dot) >= 0;

    /// <summary>The next dot <paramref name="replica"/> may issue: one past every dot of it seen here.</summary>
    public Dot NextDot(NodeId replica)
    {
        ulong highest = _prefix.Get(replica);
        foreach (var dot in _cloud)
        {
            if (dot.Node == replica)
            {
                highest = Math.Max(highest, dot.Counter);
            }
        }

        return new Dot(replica, checked(highest + 1));
    }

    public static CausalContext FromDots(IEnumerable<Dot> dots) =>
        Normalize(CounterMap.Empty, dots.Order().ToArray());

    public CausalContext Union(CausalContext other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (ReferenceEquals(this, other) || other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        var cloud = new Dot[_cloud.Length + other._cloud.Length];
        _cloud.CopyTo(cloud, 0);
        other._cloud.CopyTo(cloud, _cloud.Length);
        Array.Sort(cloud);
        return Normalize(_prefix.MergeMax(other._prefix), cloud);
    }

    public bool Equals(CausalContext? other) =>
        other is not null && _prefix.Equals(other._prefix) && _cloud.AsSpan().SequenceEqual(other._cloud);

    public override bool Equals(object? obj) => Equals(obj as CausalContext);

    public override int GetHashCode() => HashCode.Combine(_prefix, _cloud.Length);

    public override string ToString() => _prefix + (_cloud.Length == 0 ? string.Empty : "+{" + string.Join(", ", _cloud) + "}");

    private bool IsEmpty => _prefix.Count == 0 && _cloud.Length == 0;

    /// <summary>Absorbs cloud dots (sorted by node, then counter) that fall inside or extend a prefix.</summary>
    private static CausalContext Normalize(CounterMap prefix, Dot[] sortedCloud)
    {
        var remaining = new List<Dot>(sortedCloud.Length);
        foreach (var dot in sortedCloud)
        {
            ulong known = prefix.Get(dot.Node);
            if (dot.Counter <= known)
            {
                continue;
            }

            if (dot.Counter == known + 1)
            {
                // Sorted input means a deferred dot of this node is larger than this one, so
                // nothing deferred can become adjacent to the grown prefix.
                prefix = prefix.Set(dot.Node, dot.Counter);
                continue;
            }

            if (remaining.Count > 0 && remaining[^1] == dot)
            {
                continue;
            }

            remaining.Add(dot);
        }

        foreach (var dot in remaining)
        {
            Invariant.Assert(dot.Counter > prefix.Get(dot.Node) + 1);
        }

        return new CausalContext(prefix, remaining.ToArray());
    }
}
