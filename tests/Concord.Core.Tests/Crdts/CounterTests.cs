using Concord.Core.Crdts;
using Concord.Core.Tests.Support;
using CsCheck;

namespace Concord.Core.Tests.Crdts;

public class CounterTests
{
    private static readonly Gen<ulong> Amounts = Gen.ULong[1, 5];
    private static readonly Gen<(bool Increment, ulong Amount)> PNOps = Gen.Select(Gen.Bool, Amounts);

    private static readonly Gen<GCounter[]> GCounters =
        DeltaNetwork.ReplicaStates<GCounter, ulong>(Amounts, () => static (state, replica, amount) => state.Increment(replica, amount));

    [Fact]
    public void GCounter_merge_is_a_semilattice() =>
        Laws.AssertSemilattice(Laws.Triples(GCounters), (a, b) => a.Merge(b));

    [Fact]
    public void Negative_control_summing_merge_fails_idempotence() =>
        Assert.Throws<CsCheckException>(() => Laws.AssertIdempotent(GCounters.Select(s => s[0]), SumMerge));

    [Fact]
    public void GCounter_converges_to_the_sum_of_increments() =>
        DeltaNetwork.Schedules(Amounts).Sample(
            (seed, ops) =>
            {
                GCounter converged = DeltaNetwork.RunToConvergence<GCounter, ulong>(seed, ops, (state, replica, amount) => state.Increment(replica, amount));
                Assert.Equal(ops.Aggregate(0UL, (sum, op) => sum + op.Op), converged.Value);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Negative_control_a_summing_counter_diverges_under_duplication() =>
        Assert.Throws<CsCheckException>(() => DeltaNetwork.Schedules(Amounts).Sample(
            (seed, ops) => DeltaNetwork.RunToConvergence<SummingCounter, ulong>(seed, ops, (state, replica, amount) => state.Increment(replica, amount)),
            iter: Laws.Iterations));

    [Fact]
    public void PNCounter_merge_is_a_semilattice() =>
        Laws.AssertSemilattice(
            Laws.Triples(DeltaNetwork.ReplicaStates<PNCounter, (bool, ulong)>(PNOps, () => Apply)),
            (a, b) => a.Merge(b));

    [Fact]
    public void PNCounter_converges_to_increments_minus_decrements() =>
        DeltaNetwork.Schedules(PNOps).Sample(
            (seed, ops) =>
            {
                PNCounter converged = DeltaNetwork.RunToConvergence<PNCounter, (bool, ulong)>(seed, ops, Apply);
                Assert.Equal(ops.Sum(op => op.Op.Increment ? (long)op.Op.Amount : -(long)op.Op.Amount), converged.Value);
            },
            iter: Laws.Iterations);

    [Fact]
    public void Increment_delta_is_the_replicas_new_total()
    {
        NodeId a = new(1), b = new(2);
        var (state, delta) = GCounter.Empty.Increment(a, 3).State.Increment(b).State.Increment(a, 4);
        Assert.Equal(8UL, state.Value);
        Assert.Equal(7UL, delta.CountOf(a));
        Assert.Equal(0UL, delta.CountOf(b));
        Assert.Throws<ArgumentOutOfRangeException>(() => GCounter.Empty.Increment(a, 0));
        Assert.Equal(-2, PNCounter.Empty.Increment(a, 3).State.Decrement(b, 5).State.Value);
    }

    private static DeltaMutation<PNCounter> Apply(PNCounter state, NodeId replica, (bool Increment, ulong Amount) op) =>
        op.Increment ? state.Increment(replica, op.Amount) : state.Decrement(replica, op.Amount);

    private static GCounter SumMerge(GCounter a, GCounter b)
    {
        GCounter sum = GCounter.Empty;
        foreach (var (node, _) in a.Merge(b).Entries)
        {
            sum = sum.Increment(node, a.CountOf(node) + b.CountOf(node)).State;
        }

        return sum;
    }

    /// <summary>Broken on purpose: merges by adding, so a duplicated delta is counted twice.</summary>
    private sealed class SummingCounter(GCounter counts) : IStateCrdt<SummingCounter>
    {
        public static SummingCounter Empty { get; } = new(GCounter.Empty);

        public DeltaMutation<SummingCounter> Increment(NodeId replica, ulong amount)
        {
            var delta = new SummingCounter(GCounter.Empty.Increment(replica, amount).State);
            return new(Merge(delta), delta);
        }

        public SummingCounter Merge(SummingCounter other) => new(SumMerge(counts, other.Counts));

        public bool Equals(SummingCounter? other) => other is not null && counts.Equals(other.Counts);

        public override bool Equals(object? obj) => Equals(obj as SummingCounter);

        public override int GetHashCode() => counts.GetHashCode();

        public override string ToString() => counts.ToString();

        private GCounter Counts => counts;
    }
}
