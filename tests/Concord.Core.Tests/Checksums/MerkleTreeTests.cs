using Concord.Core.Checksums;
using Concord.Core.Randomness;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Checksums;

public class MerkleTreeTests
{
    [Fact]
    public void Diff_finds_exactly_the_differing_leaves_and_descends_only_into_differing_subtrees() =>
        Gen.Select(Gen.Int[0, 10], Gen.ULong, Gen.Int[0, 200], Gen.Int[0, 12]).Sample(
            (depth, seed, rowCount, mutationCount) =>
            {
                var random = new SeededRandom(seed);
                // Tokens from a narrow band sometimes, so rows crowd a few leaves.
                ulong tokenMask = random.NextBool() ? ulong.MaxValue : 0xF000_0000_0000_0000UL;
                var rows = Enumerable.Range(0, rowCount).Select(_ => (Token: random.NextUInt64() & tokenMask, Hash: Hash128(random))).ToList();
                var mutated = rows.ToList();
                for (int i = 0; i < mutationCount; i++)
                {
                    int kind = random.NextInt(3);
                    if (kind == 0 || mutated.Count == 0)
                    {
                        mutated.Add((random.NextUInt64() & tokenMask, Hash128(random)));
                    }
                    else if (kind == 1)
                    {
                        mutated.RemoveAt(random.NextInt(mutated.Count));
                    }
                    else
                    {
                        int at = random.NextInt(mutated.Count);
                        mutated[at] = (mutated[at].Token, Hash128(random));
                    }
                }

                MerkleTree a = Build(depth, rows), b = Build(depth, mutated);
                MerkleDiff diff = a.Diff(b);

                var expectedLeaves = Enumerable.Range(0, a.LeafCount).Where(leaf => !LeafRows(a, rows, leaf).SequenceEqual(LeafRows(b, mutated, leaf))).ToList();
                Assert.Equal(expectedLeaves, diff.Ranges.Select(r => r.Leaf));
                Assert.Equal(diff.Ranges, expectedLeaves.Select(a.RangeOf));
                Assert.Equal(diff.Ranges, b.Diff(a).Ranges);
                Assert.Equal(expectedLeaves.Count == 0, a.RootHash == b.RootHash);

                // The root, plus both children of every inner node above a differing leaf.
                var differingInner = expectedLeaves.SelectMany(leaf => Ancestors(leaf + a.LeafCount)).ToHashSet();
                Assert.Equal(1 + (2 * differingInner.Count), diff.NodesCompared);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Leaf_ranges_partition_the_token_space() =>
        Gen.Select(Gen.Int[0, MerkleTree.DepthMax], Gen.ULong).Sample(
            (depth, token) =>
            {
                var tree = new MerkleTree(depth);
                LeafRange range = tree.RangeOf(tree.LeafOf(token));
                Assert.InRange(token, range.FirstToken, range.LastToken);
                Assert.Equal(0UL, tree.RangeOf(0).FirstToken);
                Assert.Equal(ulong.MaxValue, tree.RangeOf(tree.LeafCount - 1).LastToken);
                if (range.Leaf > 0)
                {
                    Assert.Equal(range.FirstToken - 1, tree.RangeOf(range.Leaf - 1).LastToken);
                }
            },
            iter: Laws.Iterations);

    [Fact]
    public void Add_then_remove_restores_the_root_and_rows_are_order_independent()
    {
        var random = new SeededRandom(11);
        var rows = Enumerable.Range(0, 1_000).Select(_ => (Token: random.NextUInt64(), Hash: Hash128(random))).ToList();
        MerkleTree tree = Build(8, rows);
        UInt128 root = tree.RootHash;

        tree.Add(MerkleTree.TokenOf("extra"u8), 42);
        Assert.NotEqual(root, tree.RootHash);
        tree.Remove(MerkleTree.TokenOf("extra"u8), 42);
        Assert.Equal(root, tree.RootHash);

        rows.Reverse();
        Assert.Equal(root, Build(8, rows).RootHash);
    }

    [Fact]
    public void Identical_trees_compare_only_the_root()
    {
        var diff = new MerkleTree(12).Diff(new MerkleTree(12));
        Assert.Empty(diff.Ranges);
        Assert.Equal(1, diff.NodesCompared);
    }

    [Fact]
    public void A_moved_row_is_noticed_even_if_its_hash_omits_the_key()
    {
        MerkleTree a = new(0), b = new(0);
        a.Add(1, 99);
        b.Add(2, 99);
        Assert.Single(a.Diff(b).Ranges);
    }

    [Fact]
    public void Invalid_configuration_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(MerkleTree.DepthMax + 1));
        var error = Assert.Throws<ArgumentException>(() => new MerkleTree(3).Diff(new MerkleTree(4)));
        Assert.Contains("depth 3 and 4", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => new MerkleTree(2).Remove(0, 1));
    }

    private static MerkleTree Build(int depth, IEnumerable<(ulong Token, UInt128 Hash)> rows)
    {
        var tree = new MerkleTree(depth);
        foreach (var (token, hash) in rows)
        {
            tree.Add(token, hash);
        }

        return tree;
    }

    private static IEnumerable<(ulong, UInt128)> LeafRows(MerkleTree tree, List<(ulong Token, UInt128 Hash)> rows, int leaf) =>
        rows.Where(r => tree.LeafOf(r.Token) == leaf).Order();

    private static IEnumerable<int> Ancestors(int node)
    {
        for (node >>= 1; node >= 1; node >>= 1)
        {
            yield return node;
        }
    }

    private static UInt128 Hash128(SeededRandom random) => new(random.NextUInt64(), random.NextUInt64());
}
