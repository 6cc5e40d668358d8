using Concord.Core.Clocks;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Clocks;

public class VectorClockTests
{
    /// <summary>Small nodes and counters, so equal and ordered pairs are common, not just concurrent ones.</summary>
    internal static readonly Gen<VectorClock> Clocks =
        Gen.Select(Gen.UInt[0, 4], Gen.ULong[0, 3]).Array[0, 5].Select(entries =>
            VectorClock.From(entries.DistinctBy(e => e.Item1).Select(e => KeyValuePair.Create(new NodeId(e.Item1), e.Item2))));

    private static readonly Gen<NodeId> Nodes = Gen.UInt[0, 4].Select(n => new NodeId(n));

    /// <summary>Exact and pruned clocks, for the laws that must hold for both.</summary>
    private static readonly Gen<VectorClock> AnyClocks =
        Gen.Select(Clocks, Gen.Int[1, 6]).Select((clock, keep) => clock.Prune(keep));

    [Fact]
    public void Merge_is_a_semilattice() =>
        Laws.AssertSemilattice(Gen.Select(AnyClocks, AnyClocks, AnyClocks), (a, b) => a.Merge(b));

    [Fact]
    public void Compare_is_antisymmetric() =>
        Gen.Select(AnyClocks, AnyClocks).Sample(
            (a, b) => Assert.Equal(Flip(a.Compare(b)), b.Compare(a)),
            iter: Laws.Iterations);

    [Fact]
    public void Compare_is_consistent_with_merge() =>
        Gen.Select(Clocks, Clocks).Sample(
            (a, b) =>
            {
                CausalOrder order = a.Compare(b);
                Assert.Equal(order is CausalOrder.Before or CausalOrder.Equal, a.Merge(b).Equals(b));
                Assert.Equal(order is CausalOrder.After or CausalOrder.Equal, a.Merge(b).Equals(a));
                Assert.Equal(order == CausalOrder.Equal, a.Equals(b));
                Assert.True(a.Merge(b).Descends(a) && a.Merge(b).Descends(b));
            },
            iter: Laws.Iterations);

    [Fact]
    public void Increment_moves_strictly_forward() =>
        Gen.Select(Clocks, Nodes).Sample(
            (clock, node) =>
            {
                VectorClock next = clock.Increment(node);
                Assert.Equal(CausalOrder.Before, clock.Compare(next));
                Assert.Equal(clock[node] + 1, next[node]);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Pruning_never_creates_a_false_ordering() =>
        AssertPruningNeverOrdersFalsely(static (clock, keep) => clock.Prune(keep));

    [Fact]
    public void Negative_control_pruning_without_the_mark_creates_false_orderings() =>
        Assert.Throws<CsCheckException>(() => AssertPruningNeverOrdersFalsely(
            static (clock, keep) => VectorClock.From(clock.Prune(keep).Entries.ToArray())));

    [Fact]
    public void Pruning_can_create_a_false_concurrency()
    {
        VectorClock older = Clock(("a", 1), ("b", 1));
        VectorClock newer = Clock(("a", 2), ("b", 2), ("c", 1));
        Assert.Equal(CausalOrder.Before, older.Compare(newer));
        VectorClock pruned = older.Prune(1);
        Assert.True(pruned.IsPruned);
        Assert.Equal(CausalOrder.Concurrent, pruned.Compare(newer)); // safe: an extra sibling, nothing discarded
        Assert.Equal(CausalOrder.After, newer.Prune(2).Compare(older)); // a pruned clock can still be after an exact one
    }

    [Fact]
    public void A_pruned_clock_equal_in_its_recorded_counters_is_not_certified_after()
    {
        // Found by the pruning property (CsCheck seed 08TLQCnAmPk2): {c:2, d:1} pruned to {c:2},
        // then merged with {b:1, d:1}, records exactly the exact clock {b:1, c:2, d:1} it truly equals.
        VectorClock exact = Clock(("b", 1), ("c", 2), ("d", 1));
        VectorClock pruned = Clock(("c", 2), ("d", 1)).Prune(1).Merge(Clock(("b", 1), ("d", 1)));
        Assert.Equal(CausalOrder.Concurrent, pruned.Compare(exact)); // Equal or After: not known
        Assert.Equal(CausalOrder.Concurrent, exact.Compare(pruned));
        Assert.True(pruned.Descends(exact)); // but it certainly covers it
        Assert.False(exact.Descends(pruned));
    }

    [Fact]
    public void Prune_keeps_the_largest_counters_and_leaves_small_clocks_alone()
    {
        VectorClock clock = Clock(("a", 5), ("b", 1), ("c", 9), ("d", 5));
        Assert.Equal("{n0:5, n2:9}~pruned", clock.Prune(2).ToString());
        Assert.Same(clock, clock.Prune(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => clock.Prune(0));
    }

    [Fact]
    public void Value_equality_and_canonical_form()
    {
        Assert.Equal(Clock(("a", 1), ("b", 0)), Clock(("a", 1)));
        Assert.Equal(Clock(("b", 2), ("a", 1)), Clock(("a", 1), ("b", 2)));
        Assert.Equal(Clock(("b", 2), ("a", 1)).GetHashCode(), Clock(("a", 1), ("b", 2)).GetHashCode());
        Assert.NotEqual(Clock(("a", 1), ("b", 2)), Clock(("a", 1), ("b", 2), ("c", 1)).Prune(2));
        Assert.Throws<ArgumentException>(() => VectorClock.From([KeyValuePair.Create(new NodeId(1), 1UL), KeyValuePair.Create(new NodeId(1), 2UL)]));
    }

    internal static CausalOrder Flip(CausalOrder order) => order switch
    {
        CausalOrder.Before => CausalOrder.After,
        CausalOrder.After => CausalOrder.Before,
        _ => order,
    };

    private static VectorClock Clock(params (string Node, ulong Counter)[] entries) =>
        VectorClock.From(entries.Select(e => KeyValuePair.Create(new NodeId((uint)(e.Node[0] - 'a')), e.Counter)));

    /// <summary>
    /// Prunes two clocks, then takes each through the same merge or increment as its exact twin:
    /// whenever the pruned pair is reported ordered or equal, the exact pair must be too.
    /// </summary>
    private static void AssertPruningNeverOrdersFalsely(Func<VectorClock, int, VectorClock> prune) =>
        Gen.Select(Clocks, Clocks, Clocks, Gen.Int[1, 4], Gen.Int[1, 4], Nodes, Gen.Int[0, 2]).Sample(
            (x, y, w, keepX, keepY, node, derivation) =>
            {
                Func<VectorClock, VectorClock> derive = derivation switch
                {
                    0 => c => c,
                    1 => c => c.Merge(w),
                    _ => c => c.Increment(node),
                };
                VectorClock trueX = derive(x), trueY = y;
                VectorClock prunedX = derive(prune(x, keepX)), prunedY = prune(y, keepY);
                foreach (var (a, b) in new[] { (prunedX, trueY), (trueX, prunedY), (prunedX, prunedY) })
                {
                    CausalOrder reported = a.Compare(b);
                    if (reported != CausalOrder.Concurrent)
                    {
                        Assert.Equal(trueX.Compare(trueY), reported);
                    }
                    Assert.True(!a.Descends(b) || trueX.Descends(trueY));
                    Assert.True(!b.Descends(a) || trueY.Descends(trueX));
                }
            },
            iter: Laws.Iterations);
}
