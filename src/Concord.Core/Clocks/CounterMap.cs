namespace Concord.Core.Clocks;

/// <summary>
/// A map from node to a positive counter, stored as an array sorted by node with no zero entries,
/// so equal maps have equal arrays. Immutable: every operation returns a new map or one of its
/// inputs. The state of vector clocks, causal contexts and grow-only counters.
/// </summary>
internal readonly struct CounterMap : IEquatable<CounterMap>
{
    private readonly KeyValuePair<NodeId, ulong>[]? _entries;

    private CounterMap(KeyValuePair<NodeId, ulong>[] entries) => _entries = entries.Length == 0 ? null : entries;

    public static CounterMap Empty => default;

    public ReadOnlySpan<KeyValuePair<NodeId, ulong>> Entries => _entries;

    public int Count => _entries?.Length ?? 0;

    /// <summary>Sorts, drops zero counters and rejects duplicate nodes.</summary>
    public static CounterMap From(IEnumerable<KeyValuePair<NodeId, ulong>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        KeyValuePair<NodeId, ulong>[] sorted = entries.Where(e => e.Value != 0).OrderBy(e => e.Key).ToArray();
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i - 1].Key == sorted[i].Key)
            {
                throw new ArgumentException($"Node {sorted[i].Key} appears more than once.", nameof(entries));
            }
        }

        return new CounterMap(sorted);
    }

    /// <summary>Wraps an array the caller guarantees sorted, duplicate-free and without zeros.</summary>
    public static CounterMap FromSortedUnchecked(KeyValuePair<NodeId, ulong>[] sorted) => new(sorted);

    public ulong Get(NodeId node)
    {
        int index = IndexOf(node);
        return index >= 0 ? _entries![index].Value : 0;
    }

    public CounterMap Set(NodeId node, ulong counter)
    {
        Invariant.Assert(counter > 0);
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> entries = Entries;
        int index = IndexOf(node);
        if (index >= 0)
        {
            var copy = entries.ToArray();
            copy[index] = new(node, counter);
            return new CounterMap(copy);
        }

        int insertAt = ~index;
        var grown = new KeyValuePair<NodeId, ulong>[entries.Length + 1];
        entries[..insertAt].CopyTo(grown);
        grown[insertAt] = new(node, counter);
        entries[insertAt..].CopyTo(grown.AsSpan(insertAt + 1));
        return new CounterMap(grown);
    }

    /// <summary>Pointwise maximum; returns an input unchanged when it already dominates.</summary>
    public CounterMap MergeMax(CounterMap other)
    {
        Compare(other, out bool lessOrEqual, out bool greaterOrEqual, out int unionCount);
        if (greaterOrEqual)
        {
            return this;
        }

        if (lessOrEqual)
        {
            return other;
        }

        ReadOnlySpan<KeyValuePair<NodeId, ulong>> a = Entries;
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> b = other.Entries;
        var merged = new KeyValuePair<NodeId, ulong>[unionCount];
        int i = 0, j = 0, k = 0;
        while (i < a.Length && j < b.Length)
        {
            NodeId nodeA = a[i].Key, nodeB = b[j].Key;
            if (nodeA == nodeB)
            {
                merged[k++] = new(nodeA, Math.Max(a[i].Value, b[j].Value));
                i++;
                j++;
            }
            else if (nodeA < nodeB)
            {
                merged[k++] = a[i++];
            }
            else
            {
                merged[k++] = b[j++];
            }
        }

        while (i < a.Length)
        {
            merged[k++] = a[i++];
        }

        while (j < b.Length)
        {
            merged[k++] = b[j++];
        }

        Invariant.Assert(k == unionCount);
        return new CounterMap(merged);
    }

    /// <summary>Pointwise comparison in one pass over both sorted arrays.</summary>
    public void Compare(CounterMap other, out bool lessOrEqual, out bool greaterOrEqual, out int unionCount)
    {
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> a = Entries;
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> b = other.Entries;
        lessOrEqual = true;
        greaterOrEqual = true;
        int i = 0, j = 0, count = 0;
        while (i < a.Length && j < b.Length)
        {
            count++;
            NodeId nodeA = a[i].Key, nodeB = b[j].Key;
            if (nodeA == nodeB)
            {
                ulong x = a[i].Value, y = b[j].Value;
                lessOrEqual &= x <= y;
                greaterOrEqual &= x >= y;
                i++;
                j++;
            }
            else if (nodeA < nodeB)
            {
                lessOrEqual = false; // a has a positive entry b lacks
                i++;
            }
            else
            {
                greaterOrEqual = false;
                j++;
            }
        }

        if (i < a.Length)
        {
            lessOrEqual = false;
        }

        if (j < b.Length)
        {
            greaterOrEqual = false;
        }

        unionCount = count + (a.Length - i) + (b.Length - j);
    }

    /// <summary>A total order (node, then counter, lexicographically) used only to sort deterministically.</summary>
    public int CompareLexicographic(CounterMap other)
    {
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> a = Entries;
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> b = other.Entries;
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int byNode = a[i].Key.CompareTo(b[i].Key);
            if (byNode != 0)
            {
                return byNode;
            }

            int byCounter = a[i].Value.CompareTo(b[i].Value);
            if (byCounter != 0)
            {
                return byCounter;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    /// <summary>True when both maps share storage, as <see cref="MergeMax"/> returns a dominating input.</summary>
    public bool SharesStorageWith(CounterMap other) => ReferenceEquals(_entries, other._entries);

    public ulong Sum()
    {
        ulong total = 0;
        foreach (var entry in Entries)
        {
            total = checked(total + entry.Value);
        }

        return total;
    }

    public bool Equals(CounterMap other) => Entries.SequenceEqual(other.Entries);

    public override bool Equals(object? obj) => obj is CounterMap other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var entry in Entries)
        {
            hash.Add(entry.Key.Value);
            hash.Add(entry.Value);
        }

        return hash.ToHashCode();
    }

    public override string ToString() =>
        "{" + string.Join(", ", (_entries ?? []).Select(e => $"{e.Key}:{e.Value}")) + "}";

    private int IndexOf(NodeId node)
    {
        ReadOnlySpan<KeyValuePair<NodeId, ulong>> entries = Entries;
        int low = 0, high = entries.Length - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            NodeId probe = entries[mid].Key;
            if (probe == node)
            {
                return mid;
            }

            if (probe < node)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return ~low;
    }
}
