using System.Globalization;

namespace Concord.Core.Checksums;

/// <summary>
/// An order-independent checksum of a multiset of item hashes: their sum modulo 2^128 plus a
/// count (MSet-Add-Hash of Clarke, Devadas, van Dijk, Gassend and Suh, "Incremental Multiset Hash
/// Functions and Their Application to Memory Integrity Checking", 2003). Two replicas holding the
/// same rows in any order agree; adding and removing items updates it in O(1) without a rescan.
/// </summary>
/// <remarks>
/// Why not XOR: XOR cancels in pairs, so a row present twice checksums like a row absent, and two
/// identical corruptions vanish; a duplicated row, exactly the drift a replica verifier hunts, would
/// go unseen. Addition counts multiplicity, and the count separately catches a lost or extra row.
/// Not cryptographic: an adversary can construct collisions; drift from bugs cannot.
/// </remarks>
public readonly struct UnorderedChecksum : IEquatable<UnorderedChecksum>
{
    private UnorderedChecksum(UInt128 sum, ulong count)
    {
        Sum = sum;
        Count = count;
    }

    public static UnorderedChecksum Empty => default;

    /// <summary>The sum of item hashes modulo 2^128.</summary>
    public UInt128 Sum { get; }

    /// <summary>How many items are in the multiset.</summary>
    public ulong Count { get; }

    public UnorderedChecksum Add(UInt128 itemHash) => new(unchecked(Sum + itemHash), checked(Count + 1));

    /// <summary>Removes one occurrence; throws when the checksum is already empty.</summary>
    public UnorderedChecksum Remove(UInt128 itemHash)
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("Cannot remove an item from an empty checksum: the multiset would have a negative count.");
        }

        return new(unchecked(Sum - itemHash), Count - 1);
    }

    /// <summary>The checksum of the union of both multisets (e.g. two partitions of a table).</summary>
    public UnorderedChecksum Combine(UnorderedChecksum other) => new(unchecked(Sum + other.Sum), checked(Count + other.Count));

    public bool Equals(UnorderedChecksum other) => Sum == other.Sum && Count == other.Count;

    public override bool Equals(object? obj) => obj is UnorderedChecksum other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Sum, Count);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Sum:x32}/{Count}");

    public static bool operator ==(UnorderedChecksum left, UnorderedChecksum right) => left.Equals(right);

    public static bool operator !=(UnorderedChecksum left, UnorderedChecksum right) => !left.Equals(right);
}
