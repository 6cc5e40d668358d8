using System.Numerics;

namespace Concord.Checkers.Linearizability;

/// <summary>
/// The set of visited (linearized operations, model state) pairs: the pruning that makes
/// Wing-Gong-Lowe search practical (Lowe; Porcupine). Open addressing over flat arrays, so a
/// lookup allocates nothing and an insert copies one bitset into a shared arena. The caller
/// supplies an incrementally maintained (Zobrist) hash of the bitset, so hashing is O(1) in the
/// number of operations.
/// </summary>
internal sealed class StateCache<TState>
{
    private const double LoadFactorMax = 0.5;

    private readonly int words;
    private readonly IEqualityComparer<TState> comparer;
    private readonly long maxBytes;
    private ulong[] bitsArena;
    private TState[] states;
    private ulong[] hashes;
    private int[] slots; // entry index + 1; 0 is empty
    private int count;

    public StateCache(int words, IEqualityComparer<TState> comparer, long maxBytes)
    {
        Invariant.Assert(words > 0, "a bitset has at least one word");
        this.words = words;
        this.comparer = comparer;
        this.maxBytes = maxBytes;
        const int initialEntries = 256;
        bitsArena = new ulong[initialEntries * words];
        states = new TState[initialEntries];
        hashes = new ulong[initialEntries];
        slots = new int[initialEntries * 2];
    }

    public enum AddResult
    {
        Added,
        AlreadyPresent,
        Full,
    }

    public int Count => count;

    /// <summary>Bitset words, state slot, hash and two table slots per entry.</summary>
    public long EstimatedBytes => (long)count * ((words * sizeof(ulong)) + 8 + sizeof(ulong) + (2 * sizeof(int)));

    public AddResult TryAdd(ReadOnlySpan<ulong> bits, ulong bitsHash, TState state)
    {
        Invariant.Assert(bits.Length == words, "bitset width matches the cache");
        var hash = Mix(bitsHash ^ ((ulong)(uint)comparer.GetHashCode(state!) * 0x9E3779B97F4A7C15UL));
        var mask = slots.Length - 1;
        var slot = (int)(hash & (ulong)mask);
        while (true)
        {
            var stored = slots[slot];
            if (stored == 0)
            {
                break;
            }

            var entry = stored - 1;
            if (hashes[entry] == hash &&
                bits.SequenceEqual(bitsArena.AsSpan(entry * words, words)) &&
                comparer.Equals(states[entry], state))
            {
                return AddResult.AlreadyPresent;
            }

            slot = (slot + 1) & mask;
        }

        if (EstimatedBytes + (words * sizeof(ulong)) > maxBytes)
        {
            return AddResult.Full;
        }

        if (count == states.Length)
        {
            var capacity = checked(count * 2);
            Array.Resize(ref bitsArena, checked(capacity * words));
            Array.Resize(ref states, capacity);
            Array.Resize(ref hashes, capacity);
        }

        bits.CopyTo(bitsArena.AsSpan(count * words, words));
        states[count] = state;
        hashes[count] = hash;
        count++;
        slots[slot] = count;
        if (count > slots.Length * LoadFactorMax)
        {
            Rehash();
        }

        return AddResult.Added;
    }

    private void Rehash()
    {
        slots = new int[checked(slots.Length * 2)];
        var mask = slots.Length - 1;
        for (var entry = 0; entry < count; entry++)
        {
            var slot = (int)(hashes[entry] & (ulong)mask);
            while (slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            slots[slot] = entry + 1;
        }

        Invariant.Assert(BitOperations.IsPow2(slots.Length), "the table size stays a power of two");
    }

    /// <summary>Finalizer of SplitMix64: spreads the combined hash over the low bits used for slots.</summary>
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
