using Concord.Core.Crdts;

namespace Concord.Core.Clocks;

/// <summary>A value written under a dotted version vector: one sibling of a <see cref="DvvSet{T}"/>.</summary>
public readonly record struct Versioned<T>(DottedVersionVector Version, T Value);

/// <summary>
/// The versions of one key in a Dynamo-style store, tracked with dotted version vectors
/// (Preguiça et al. 2010, section 5; Almeida et al., "Scalable and Accurate Causality Tracking for
/// Eventually Consistent Stores", 2014). Holds the concurrent siblings: no sibling's history
/// contains another's. Immutable with value equality; <see cref="Merge"/> is the paper's sync and a
/// join, so replicas converge whatever order they exchange sets in.
/// </summary>
/// <remarks>
/// A client reads <see cref="Values"/> and <see cref="Context"/>, then writes back through a
/// coordinator with <see cref="Put"/>, which discards exactly the siblings the client had seen.
/// Writes that did not see each other stay as siblings; none is lost to a clock comparison.
/// </remarks>
public sealed class DvvSet<T> : IStateCrdt<DvvSet<T>>
{
    private static readonly EqualityComparer<T> ValueComparer = EqualityComparer<T>.Default;

    private readonly Versioned<T>[] _siblings; // sorted by dot, pairwise concurrent

    private DvvSet(Versioned<T>[] siblings) => _siblings = siblings;

    public static DvvSet<T> Empty { get; } = new([]);

    /// <summary>Concurrent versions, sorted by dot.</summary>
    public IReadOnlyList<Versioned<T>> Siblings => _siblings;

    public IEnumerable<T> Values => _siblings.Select(s => s.Value);

    /// <summary>The causal context of a read: a version vector covering every sibling.</summary>
    public VectorClock Context()
    {
        VectorClock context = VectorClock.Empty;
        foreach (var sibling in _siblings)
        {
            context = context.Merge(sibling.Version.ToVectorClock());
        }

        return context;
    }

    /// <summary>
    /// A write coordinated by <paramref name="coordinator"/> from a client that had read
    /// <paramref name="context"/> (empty for a blind write). Siblings covered by the context are
    /// replaced; the others stay, concurrent with the new value.
    /// </summary>
    public DvvSet<T> Put(NodeId coordinator, VectorClock context, T value)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsPruned)
        {
            throw new ArgumentException("A write context must be exact; a pruned context cannot name what the client saw.", nameof(context));
        }

        // The coordinator's counter must exceed every event of its own it has seen for this key,
        // here or in the client's context, so the new dot is fresh.
        ulong highest = context[coordinator];
        foreach (var sibling in _siblings)
        {
            highest = Math.Max(highest, sibling.Version.ToVectorClock()[coordinator]);
        }

        var written = new Versioned<T>(new DottedVersionVector(new Dot(coordinator, checked(highest + 1)), context), value);
        var kept = _siblings.Where(s => !s.Version.IsCoveredBy(context)).Append(written).ToArray();
        Array.Sort(kept, static (x, y) => x.Version.Dot.CompareTo(y.Version.Dot));
        return new DvvSet<T>(kept);
    }

    /// <summary>Union of both sets minus every sibling whose history another sibling contains.</summary>
    public DvvSet<T> Merge(DvvSet<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var union = new List<Versioned<T>>(_siblings.Length + other._siblings.Length);
        int i = 0, j = 0;
        while (i < _siblings.Length || j < other._siblings.Length)
        {
            int order = i == _siblings.Length ? 1
                : j == other._siblings.Length ? -1
                : _siblings[i].Version.Dot.CompareTo(other._siblings[j].Version.Dot);
            if (order == 0)
            {
                // One dot names one write: the same dot with another past or value is corruption.
                Invariant.Assert(_siblings[i].Version.Equals(other._siblings[j].Version));
                Invariant.Assert(ValueComparer.Equals(_siblings[i].Value, other._siblings[j].Value));
                union.Add(_siblings[i++]);
                j++;
            }
            else
            {
                union.Add(order < 0 ? _siblings[i++] : other._siblings[j++]);
            }
        }

        var kept = union.Where(x => !IsObsolete(x, union)).ToArray();
        return kept.Length == _siblings.Length && kept.Length == union.Count ? this : new DvvSet<T>(kept);
    }

    public bool Equals(DvvSet<T>? other) =>
        other is not null
        && _siblings.Length == other._siblings.Length
        && _siblings.Zip(other._siblings).All(p => p.First.Version.Equals(p.Second.Version) && ValueComparer.Equals(p.First.Value, p.Second.Value));

    public override bool Equals(object? obj) => Equals(obj as DvvSet<T>);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var sibling in _siblings)
        {
            hash.Add(sibling.Version);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _siblings.Select(s => s.Version + "=" + s.Value)) + "]";

    private static bool IsObsolete(Versioned<T> sibling, List<Versioned<T>> all)
    {
        foreach (var other in all)
        {
            if (other.Version.Dot != sibling.Version.Dot && other.Version.Descends(sibling.Version))
            {
                // Two distinct writes each containing the other would be a causal cycle.
                Invariant.Assert(!sibling.Version.Descends(other.Version));
                return true;
            }
        }

        return false;
    }
}
