using Concord.Core.Clocks;
using Concord.Core.Crdts;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Crdts;

public class ORSetTests
{
    private static readonly Gen<(bool Add, int Element)> Ops = Gen.Select(Gen.Frequency((2, Gen.Const(true)), (1, Gen.Const(false))), Gen.Int[0, 4]);

    [Fact]
    public void Merge_is_a_semilattice() =>
        Laws.AssertSemilattice(
            Laws.Triples(DeltaNetwork.ReplicaStates<ORSet<int>, (bool, int)>(Ops, () => static (state, replica, op) => Apply(state, replica, op))),
            (a, b) => a.Merge(b));

    /// <summary>
    /// The OR-Set specification (Shapiro et al. 2011): after convergence an element's surviving
    /// adds are exactly its adds that no remove (or re-add, which replaces) had observed.
    /// </summary>
    [Fact]
    public void Converges_to_the_adds_no_remove_observed() =>
        DeltaNetwork.Schedules(Ops).Sample(
            (seed, ops) =>
            {
                var added = new List<(int Element, Dot Dot)>();
                var observed = new HashSet<Dot>();
                ORSet<int> converged = DeltaNetwork.RunToConvergence<ORSet<int>, (bool, int)>(seed, ops, (state, replica, op) =>
                {
                    observed.UnionWith(state.DotsOf(op.Item2));
                    var mutation = Apply(state, replica, op);
                    if (op.Item1)
                    {
                        added.Add((op.Item2, mutation.Delta.DotsOf(op.Item2).Single()));
                    }

                    return mutation;
                });

                for (int element = 0; element <= 4; element++)
                {
                    var surviving = added.Where(a => a.Element == element && !observed.Contains(a.Dot)).Select(a => a.Dot).Order();
                    Assert.Equal(surviving, converged.DotsOf(element));
                    Assert.Equal(surviving.Any(), converged.Contains(element));
                }
            },
            iter: Laws.Iterations);

    [Fact]
    public void Concurrent_add_wins_over_remove()
    {
        NodeId a = new(0), b = new(1);
        ORSet<string> shared = ORSet<string>.Empty.Add(a, "x").State;
        var (removedAtA, removal) = shared.Remove("x");
        var (addedAtB, addition) = shared.Add(b, "x");
        Assert.False(removedAtA.Contains("x"));
        Assert.True(removedAtA.Merge(addition).Contains("x"));
        Assert.True(addedAtB.Merge(removal).Contains("x"));
        Assert.Equal(removedAtA.Merge(addition), addedAtB.Merge(removal));
    }

    [Fact]
    public void Remove_after_observing_every_add_removes()
    {
        NodeId a = new(0), b = new(1);
        ORSet<string> atA = ORSet<string>.Empty.Add(a, "x").State;
        ORSet<string> atB = ORSet<string>.Empty.Add(b, "x").State.Merge(atA);
        var (removed, removal) = atB.Remove("x");
        Assert.Empty(removed.Elements);
        Assert.False(atA.Merge(removal).Contains("x"));
        Assert.True(removed.Add(a, "x").State.Contains("x"));
        Assert.Equal(ORSet<string>.Empty, ORSet<string>.Empty.Remove("absent").Delta);
    }

    private static DeltaMutation<ORSet<int>> Apply(ORSet<int> state, NodeId replica, (bool Add, int Element) op) =>
        op.Add ? state.Add(replica, op.Element) : state.Remove(op.Element);
}
