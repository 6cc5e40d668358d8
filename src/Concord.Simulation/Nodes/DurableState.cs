using System.Diagnostics.CodeAnalysis;

namespace Concord.Simulation.Nodes;

/// <summary>
/// A read-only snapshot of a node's durable key-value store, keys in ordinal order so that a prefix
/// (<c>"log/"</c>) is a contiguous range: a Raft log stored as <c>log/00000017</c> replays in order.
/// </summary>
public sealed class DurableState
{
    private readonly string[] _keys;
    private readonly object[] _values;

    internal DurableState(SortedDictionary<string, object> store)
    {
        _keys = [.. store.Keys];
        _values = [.. store.Values];
    }

    private DurableState()
    {
        _keys = [];
        _values = [];
    }

    public static DurableState Empty { get; } = new();

    public int Count => _keys.Length;

    /// <summary>Keys in ordinal order.</summary>
    public IReadOnlyList<string> Keys => _keys;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGet<T>(string key, [MaybeNullWhen(false)] out T value)
    {
        int index = IndexOf(key);
        if (index >= 0 && _values[index] is T typed)
        {
            value = typed;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>The value at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public T GetOrDefault<T>(string key, T fallback)
    {
        if (TryGet(key, out T? value))
        {
            // TryGet succeeds only for a stored value of type T, and stored values are never null.
            return value!;
        }

        return fallback;
    }

    /// <summary>Entries whose key starts with <paramref name="prefix"/>, in key order.</summary>
    public IEnumerable<KeyValuePair<string, object>> WithPrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        int start = Array.BinarySearch(_keys, prefix, StringComparer.Ordinal);
        if (start < 0)
        {
            start = ~start;
        }

        for (int i = start; i < _keys.Length && _keys[i].StartsWith(prefix, StringComparison.Ordinal); i++)
        {
            yield return new(_keys[i], _values[i]);
        }
    }

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Array.BinarySearch(_keys, key, StringComparer.Ordinal);
    }
}
