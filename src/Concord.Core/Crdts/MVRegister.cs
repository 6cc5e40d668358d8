using Concord.Core.Clocks;

namespace Concord.Core.Crdts;

/// <summary>
/// Multi-value register (Shapiro et al. 2011, specification 10): each value carries the version
/// vector of its write; merge keeps the values no other value's version dominates. Concurrent writes
/// therefore all survive as <see cref="Values"/>, and a write that has seen them replaces them all.
/// </summary>
/// <remarks>
/// A write's version is the merge of every version the replica holds, incremented at the replica,
/// so it dominates everything the writer saw. The delta is just the new (version, value): whatever
/// order deltas arrive in, a dominated one is dropped on arrival and a dominating one evicts.
/// </remarks>
public sealed class MVRegister<T> : IStateCrdt<MVRegister<T>>
{
    private static readonly EqualityComparer<T> ValueComparer = EqualityComparer<T>.Default;

    private readonly (VectorClock Version, T Value)[] _entries; // pairwise concurrent, sorted by version

    private MVRegister((VectorClock Version, T Value)[] entries) => _entries = entries;

    public static MVRegister<T> Empty { get; } = new([]);

    /// <summary>The concurrent values, in a deterministic order (by version).</summary>
    public IReadOnlyList<T> Values => _entries.Select(e => e.Value).ToArray();

    /// <summary>The versions of <see cref="Values"/>, in the same order.</summary>
    public IReadOnlyList<VectorClock> Versions => _entries.Select(e => e.Version).ToArray();

    /// <summary>Writes <paramref name="value"/> at <paramref name="replica"/>, superseding every value held here.</summary>
    public DeltaMutation<MVRegister<T>> Set(NodeId replica, T value)
    {
        VectorClock version = VectorClock.Empty;
        foreach (var entry in _entries)
        {
            version = version.Merge(entry.Version);
        }

        var delta = new MVRegister<T>([(version.Increment(replica), value)]);
        return new DeltaMutation<MVRegister<T>>(Merge(delta), delta);
    }

    public MVRegister<T> Merge(MVRegister<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var kept = new List<(VectorClock Version, T Value)>(_entries.Length + other._entries.Length);
        AddUndominated(_entries, other._entries, kept);
        AddUndominated(other._entries, _entries, kept);
        kept.Sort(static (x, y) => x.Version.Counters.CompareLexicographic(y.Version.Counters));
        // An entry present on both sides was added twice; keep one.
        var merged = new List<(VectorClock Version, T Value)>(kept.Count);
        foreach (var entry in kept)
        {
            if (merged.Count > 0 && merged[^1].Version.Equals(entry.Version))
            {
                // One version names one write: equal versions with different values is corruption.
                Invariant.Assert(ValueComparer.Equals(merged[^1].Value, entry.Value));
                continue;
            }

            merged.Add(entry);
        }

        return new MVRegister<T>(merged.ToArray());
    }

    public bool Equals(MVRegister<T>? other) =>
        other is not null
        && _entries.Length == other._entries.Length
        && _entries.Zip(other._entries).All(p => p.First.Version.Equals(p.Second.Version) && ValueComparer.Equals(p.First.Value, p.Second.Value));

    public override bool Equals(object? obj) => Equals(obj as MVRegister<T>);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var entry in _entries)
        {
            hash.Add(entry.Version);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => "MVRegister[" + string.Join(", ", _entries.Select(e => e.Value + " @ " + e.Version)) + "]";

    private static void AddUndominated(
        (VectorClock Version, T Value)[] candidates,
        (VectorClock Version, T Value)[] rivals,
        List<(VectorClock Version, T Value)> kept)
    {
        foreach (var candidate in candidates)
        {
            bool dominated = false;
            foreach (var rival in rivals)
            {
                if (candidate.Version.Compare(rival.Version) == CausalOrder.Before)
                {
                    dominated = true;
                    break;
                }
            }

            if (!dominated)
            {
                kept.Add(candidate);
            }
        }
    }
}
