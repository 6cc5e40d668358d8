using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Concord.Core.Checksums;

/// <summary>Leaf <see cref="Leaf"/> of a <see cref="MerkleTree"/> and the tokens it covers, both ends inclusive.</summary>
public readonly record struct LeafRange(int Leaf, ulong FirstToken, ulong LastToken);

/// <summary>The result of <see cref="MerkleTree.Diff"/>.</summary>
public sealed class MerkleDiff
{
    internal MerkleDiff(IReadOnlyList<LeafRange> ranges, int nodesCompared)
    {
        Ranges = ranges;
        NodesCompared = nodesCompared;
    }

    /// <summary>The leaves whose contents differ, in ascending token order.</summary>
    public IReadOnlyList<LeafRange> Ranges { get; }

    /// <summary>
    /// Nodes whose hashes were compared: the root plus both children of every differing inner node.
    /// Grows with the number of differences times the depth, not with the size of the tree.
    /// </summary>
    public int NodesCompared { get; }
}

/// <summary>
/// A Merkle tree (Merkle 1987) over the 64-bit token space split into 2^<see cref="Depth"/> equal
/// leaf ranges, as Dynamo and Cassandra use for anti-entropy: two replicas compare roots and descend
/// only into subtrees whose hashes differ, finding the differing ranges in O(differences x depth)
/// comparisons. Each leaf is an <see cref="UnorderedChecksum"/> of its rows, so rows are added and
/// removed in any order; inner hashes are recomputed lazily, only along changed paths.
/// </summary>
/// <remarks>
/// Byte-string keys map to tokens with <see cref="TokenOf"/> (hash partitioning); ordered keys can
/// use their own 64-bit prefix as the token. Each row contributes hash(token, row hash), so a row
/// hash need not include the key for a moved row to be noticed. Not thread-safe.
/// </remarks>
public sealed class MerkleTree
{
    /// <summary>2^20 leaves, about 50 MB of nodes; deeper trees cost more memory than they save transfer.</summary>
    public const int DepthMax = 20;

    private readonly UnorderedChecksum[] _leaves;
    private readonly UInt128[] _innerHashes; // heap order: root at 1, children of i at 2i and 2i+1
    private readonly bool[] _innerDirty;     // a dirty node's ancestors are all dirty

    public MerkleTree(int depth)
    {
        if (depth is < 0 or > DepthMax)
        {
            throw new ArgumentOutOfRangeException(
                nameof(depth),
                depth,
                string.Create(CultureInfo.InvariantCulture, $"depth must be within [0, {DepthMax}]; the tree has 2^depth leaves."));
        }

        Depth = depth;
        LeafCount = 1 << depth;
        _leaves = new UnorderedChecksum[LeafCount];
        _innerHashes = new UInt128[LeafCount];
        _innerDirty = new bool[LeafCount];
        Array.Fill(_innerDirty, true);
    }

    public int Depth { get; }

    public int LeafCount { get; }

    /// <summary>The root hash; equal roots mean equal contents (up to a 2^-128 collision).</summary>
    public UInt128 RootHash => NodeHash(1);

    /// <summary>Maps a byte-string key to its token with XXH3.</summary>
    public static ulong TokenOf(ReadOnlySpan<byte> key) => XxHash3.HashToUInt64(key);

    public int LeafOf(ulong token) => Depth == 0 ? 0 : (int)(token >> (64 - Depth));

    public LeafRange RangeOf(int leaf)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(leaf);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leaf, LeafCount);
        if (Depth == 0)
        {
            return new LeafRange(0, 0, ulong.MaxValue);
        }

        ulong first = (ulong)leaf << (64 - Depth);
        return new LeafRange(leaf, first, first + (ulong.MaxValue >> Depth));
    }

    /// <summary>The checksum of the rows in <paramref name="leaf"/>.</summary>
    public UnorderedChecksum Leaf(int leaf) => _leaves[leaf];

    public void Add(ulong token, UInt128 rowHash)
    {
        int leaf = LeafOf(token);
        _leaves[leaf] = _leaves[leaf].Add(RowContribution(token, rowHash));
        MarkDirty(leaf);
    }

    /// <summary>Removes a row added earlier with the same token and row hash.</summary>
    public void Remove(ulong token, UInt128 rowHash)
    {
        int leaf = LeafOf(token);
        _leaves[leaf] = _leaves[leaf].Remove(RowContribution(token, rowHash));
        MarkDirty(leaf);
    }

    /// <summary>
    /// The leaves whose contents differ from <paramref name="other"/>'s, found by descending only
    /// into subtrees whose hashes differ. Both trees must have the same depth.
    /// </summary>
    public MerkleDiff Diff(MerkleTree other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Depth != Depth)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Cannot diff Merkle trees of depth {Depth} and {other.Depth}: their leaves cover different token ranges."),
                nameof(other));
        }

        var ranges = new List<LeafRange>();
        int compared = 0;
        var pending = new Stack<int>();
        pending.Push(1);
        while (pending.Count > 0)
        {
            int node = pending.Pop();
            compared++;
            if (node >= LeafCount)
            {
                int leaf = node - LeafCount;
                if (_leaves[leaf] != other._leaves[leaf])
                {
                    ranges.Add(RangeOf(leaf));
                }
            }
            else if (NodeHash(node) != other.NodeHash(node))
            {
                pending.Push((2 * node) + 1); // right first, so leaves come out in ascending order
                pending.Push(2 * node);
            }
        }

        return new MerkleDiff(ranges, compared);
    }

    private static UInt128 RowContribution(ulong token, UInt128 rowHash)
    {
        Span<byte> input = stackalloc byte[sizeof(ulong) + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(input, token);
        BinaryPrimitives.WriteUInt128LittleEndian(input[sizeof(ulong)..], rowHash);
        return XxHash128.HashToUInt128(input);
    }

    private static UInt128 HashPair(UInt128 left, UInt128 right, ulong extra)
    {
        Span<byte> input = stackalloc byte[16 + 16 + sizeof(ulong)];
        BinaryPrimitives.WriteUInt128LittleEndian(input, left);
        BinaryPrimitives.WriteUInt128LittleEndian(input[16..], right);
        BinaryPrimitives.WriteUInt64LittleEndian(input[32..], extra);
        return XxHash128.HashToUInt128(input);
    }

    private void MarkDirty(int leaf)
    {
        for (int node = (leaf + LeafCount) >> 1; node >= 1 && !_innerDirty[node]; node >>= 1)
        {
            _innerDirty[node] = true;
        }
    }

    private UInt128 NodeHash(int node)
    {
        if (node >= LeafCount)
        {
            UnorderedChecksum leaf = _leaves[node - LeafCount];
            return HashPair(leaf.Sum, 0, leaf.Count);
        }

        if (_innerDirty[node])
        {
            _innerHashes[node] = HashPair(NodeHash(2 * node), NodeHash((2 * node) + 1), (ulong)node);
            _innerDirty[node] = false;
        }

        return _innerHashes[node];
    }
}
