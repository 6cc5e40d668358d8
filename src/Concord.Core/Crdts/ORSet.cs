using Concord.Core.Clocks;

namespace Concord.Core.Crdts;

/// <summary>
/// Add-wins observed-remove set with delta mutators: the AWORSet of Almeida, Shoker and Baquero,
/// "Delta State Replicated Data Types" (2018), figure 3. Each add tags the element with a fresh
/// dot; a remove deletes only the dots it has observed. An add concurrent with a remove carries a
/// dot the remove never saw, so the element survives: add wins.
/// </summary>
/// <remarks>
/// State is (element to dots, causal context). The context remembers every dot ever seen, including
/// removed ones, which is what lets merge tell "removed here" from "not yet seen here" without
/// tombstones per element. A dot present on one side and absent on the other survives merge only
/// if the other side has never seen it.
/// </remarks>
public sealed class ORSet<T> : IStateCrdt<ORSet<T>>
    where T : notnull
{
    private readonly Dictionary<T, Dot[]> _entries; // never mutated after construction; dot arrays sorted, non-empty
    private readonly CausalContext _context;

    private ORSet(Dictionary<T, Dot[]> entries, CausalContext context)
    {
        _entries = entries;
        _context = context;
    }

    public static ORSet<T> Empty { get; } = new([], CausalContext.Empty);

    public int Count => _entries.Count;

    public IReadOnlyCollection<T> Elements => _entries.Keys;

    public bool Contains(T element) => _entries.ContainsKey(element);

    /// <summary>The dots of the adds of <paramref name="element"/> that survive (for tests and diagnostics).</summary>
    internal IReadOnlyList<Dot> DotsOf(T element) => _entries.TryGetValue(element, out Dot[]? dots) ? dots : [];

    /// <summary>
    /// Adds <paramref name="element"/> with a fresh dot of <paramref name="replica"/>. The delta's
    /// context also holds the element's previous dots, so they are replaced rather than kept.
    /// </summary>
    public DeltaMutation<ORSet<T>> Add(NodeId replica, T element)
    {
        ArgumentNullException.ThrowIfNull(element);
        Dot dot = _context.NextDot(replica);
        IEnumerable<Dot> replaced = _entries.TryGetValue(element, out Dot[]? previous) ? previous : [];
        var delta = new ORSet<T>(
            new Dictionary<T, Dot[]>(_entries.Comparer) { [element] = [dot] },
            CausalContext.FromDots(replaced.Append(dot)));
        return new DeltaMutation<ORSet<T>>(Merge(delta), delta);
    }

    /// <summary>Removes the observed adds of <paramref name="element"/>; concurrent unseen adds survive.</summary>
    public DeltaMutation<ORSet<T>> Remove(T element)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (!_entries.TryGetValue(element, out Dot[]? observed))
        {
            return new DeltaMutation<ORSet<T>>(this, Empty);
        }

        var delta = new ORSet<T>(new Dictionary<T, Dot[]>(_entries.Comparer), CausalContext.FromDots(observed));
        return new DeltaMutation<ORSet<T>>(Merge(delta), delta);
    }

    public ORSet<T> Merge(ORSet<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var entries = new Dictionary<T, Dot[]>(_entries.Count + other._entries.Count, _entries.Comparer);
        foreach (var (element, dots) in _entries)
        {
            Dot[] theirs = other._entries.TryGetValue(element, out Dot[]? found) ? found : [];
            Dot[] kept = MergeDots(dots, _context, theirs, other._context);
            if (kept.Length > 0)
            {
                entries.Add(element, kept);
            }
        }

        foreach (var (element, dots) in other._entries)
        {
            if (_entries.ContainsKey(element))
            {
                continue;
            }

            Dot[] kept = MergeDots([], _context, dots, other._context);
            if (kept.Length > 0)
            {
                entries.Add(element, kept);
            }
        }

        return new ORSet<T>(entries, _context.Union(other._context));
    }

    public bool Equals(ORSet<T>? other)
    {
        if (other is null || _entries.Count != other._entries.Count || !_context.Equals(other._context))
        {
            return false;
        }

        foreach (var (element, dots) in _entries)
        {
            if (!other._entries.TryGetValue(element, out Dot[]? theirs) || !dots.AsSpan().SequenceEqual(theirs))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ORSet<T>);

    public override int GetHashCode()
    {
        int elements = 0;
        foreach (var element in _entries.Keys)
        {
            elements += _entries.Comparer.GetHashCode(element); // order-independent
        }

        return HashCode.Combine(elements, _context);
    }

    public override string ToString() =>
        "ORSet{" + string.Join(", ", _entries.Select(e => e.Key + "@[" + string.Join(" ", e.Value) + "]")) + "} ctx " + _context;

    /// <summary>
    /// The dot-set join of the paper: dots both sides hold, plus dots one side holds that the other
    /// has never seen. Inputs and output are sorted.
    /// </summary>
    private static Dot[] MergeDots(Dot[] ours, CausalContext ourContext, Dot[] theirs, CausalContext theirContext)
    {
        var kept = new List<Dot>(ours.Length + theirs.Length);
        int i = 0, j = 0;
        while (i < ours.Length || j < theirs.Length)
        {
            int order = i == ours.Length ? 1 : j == theirs.Length ? -1 : ours[i].CompareTo(theirs[j]);
            if (order == 0)
            {
                kept.Add(ours[i]);
                i++;
                j++;
            }
            else if (order < 0)
            {
                if (!theirContext.Contains(ours[i]))
                {
                    kept.Add(ours[i]);
                }

                i++;
            }
            else
            {
                if (!ourContext.Contains(theirs[j]))
                {
                    kept.Add(theirs[j]);
                }

                j++;
            }
        }

        // Arrays are never mutated, so an unchanged side can be shared.
        return kept.Count == ours.Length && kept.SequenceEqual(ours) ? ours : kept.ToArray();
    }
}
