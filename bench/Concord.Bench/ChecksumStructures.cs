using BenchmarkDotNet.Attributes;
using Concord.Core.Checksums;
using Concord.Core.Randomness;

namespace Concord.Bench;

/// <summary>Order-independent combine and Merkle build/diff over 100,000 rows.</summary>
[MemoryDiagnoser]
public class ChecksumStructures
{
    private const int Rows = 100_000;
    private const int MerkleDepth = 16;
    private const int Differences = 100;

    private (ulong Token, UInt128 Hash)[] _rows = [];
    private MerkleTree _left = new(0);
    private MerkleTree _right = new(0);

    [GlobalSetup]
    public void Setup()
    {
        var random = new SeededRandom(7);
        _rows = new (ulong, UInt128)[Rows];
        for (int i = 0; i < Rows; i++)
        {
            _rows[i] = (random.NextUInt64(), new UInt128(random.NextUInt64(), random.NextUInt64()));
        }

        _left = BuildTree();
        _right = BuildTree();
        for (int i = 0; i < Differences; i++)
        {
            _right.Add(random.NextUInt64(), new UInt128(random.NextUInt64(), random.NextUInt64()));
        }

        _ = _left.RootHash;
        _ = _right.RootHash;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public UnorderedChecksum UnorderedAdd()
    {
        UnorderedChecksum checksum = UnorderedChecksum.Empty;
        foreach (var (_, hash) in _rows)
        {
            checksum = checksum.Add(hash);
        }

        return checksum;
    }

    [Benchmark]
    public UInt128 MerkleBuild() => BuildTree().RootHash;

    [Benchmark]
    public int MerkleDiff() => _left.Diff(_right).Ranges.Count;

    private MerkleTree BuildTree()
    {
        var tree = new MerkleTree(MerkleDepth);
        foreach (var (token, hash) in _rows)
        {
            tree.Add(token, hash);
        }

        return tree;
    }
}
