using Concord.Core.Clocks;
using Concord.Core.Crdts;
using Concord.Core.Tests.Support;
using CsCheck;
using Microsoft.Extensions.Time.Testing;

namespace Concord.Core.Tests.Crdts;

public class RegisterTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    /// <summary>A write: value, how far true time moves first, and the writer's clock skew.</summary>
    private static readonly Gen<(int Value, int AdvanceMs, int SkewMs)> LwwOps =
        Gen.Select(Gen.Int[0, 99], Gen.Int[0, 2], Gen.Int[-3, 3]);

    [Fact]
    public void LwwRegister_merge_is_a_semilattice() =>
        Laws.AssertSemilattice(
            Laws.Triples(DeltaNetwork.ReplicaStates<LwwRegister<int>, (int, int, int)>(LwwOps, NewLwwWriter)),
            (a, b) => a.Merge(b));

    [Fact]
    public void LwwRegister_converges_to_the_largest_timestamp_then_writer() =>
        DeltaNetwork.Schedules(LwwOps).Sample(
            (seed, ops) =>
            {
                var writes = new List<LwwRegister<int>>();
                var write = NewLwwWriter();
                LwwRegister<int> converged = DeltaNetwork.RunToConvergence<LwwRegister<int>, (int, int, int)>(seed, ops, (state, replica, op) =>
                {
                    var mutation = write(state, replica, op);
                    writes.Add(mutation.Delta);
                    return mutation;
                });

                LwwRegister<int> expected = writes.OrderBy(w => w.Timestamp).ThenBy(w => w.Writer).LastOrDefault() ?? LwwRegister<int>.Empty;
                Assert.Equal(expected, converged);
            },
            iter: Laws.Iterations);

    [Fact]
    public void LwwRegister_breaks_timestamp_ties_by_writer()
    {
        var at = new HlcTimestamp(1_700_000_000_000, 0);
        var low = LwwRegister<string>.Empty.Set("low", new NodeId(1), at).Delta;
        var high = LwwRegister<string>.Empty.Set("high", new NodeId(2), at).Delta;
        Assert.Equal("high", low.Merge(high).Value);
        Assert.Equal("high", high.Merge(low).Value);
    }

    [Fact]
    public void LwwRegister_refuses_a_write_that_would_lose_and_orders_writes_after_reads()
    {
        var register = LwwRegister<string>.Empty.Set("first", new NodeId(2), new HlcTimestamp(1_700_000_000_500, 0)).State;
        Assert.Throws<ArgumentException>(() => register.Set("stale", new NodeId(1), new HlcTimestamp(1_700_000_000_500, 0)));

        // A writer whose clock is 500 ms behind still wins over what it read, by observing its timestamp.
        var behind = new HybridLogicalClock(new FakeTimeProvider(Start), maxOffsetMs: 1_000);
        var (state, _) = register.Set("second", new NodeId(1), behind);
        Assert.Equal("second", state.Value);
        Assert.True(state.Timestamp > register.Timestamp);
        Assert.Throws<InvalidOperationException>(() => LwwRegister<string>.Empty.Value);
    }

    [Fact]
    public void MVRegister_merge_is_a_semilattice() =>
        Laws.AssertSemilattice(
            Laws.Triples(DeltaNetwork.ReplicaStates<MVRegister<int>, int>(Gen.Int[0, 9], () => static (state, replica, value) => state.Set(replica, value))),
            (a, b) => a.Merge(b));

    /// <summary>After convergence the register holds exactly the writes no other write had seen.</summary>
    [Fact]
    public void MVRegister_converges_to_the_undominated_writes() =>
        DeltaNetwork.Schedules(Gen.Int[0, 9]).Sample(
            (seed, ops) =>
            {
                var writes = new List<(VectorClock Version, int Value)>();
                MVRegister<int> converged = DeltaNetwork.RunToConvergence<MVRegister<int>, int>(seed, ops, (state, replica, value) =>
                {
                    var mutation = state.Set(replica, value);
                    writes.Add((mutation.Delta.Versions.Single(), value));
                    return mutation;
                });

                var expected = writes.Where(w => !writes.Any(other => w.Version.Compare(other.Version) == CausalOrder.Before)).ToList();
                Assert.Equal(expected.Select(w => w.Version.ToString()).Order(), converged.Versions.Select(v => v.ToString()).Order());
                Assert.Equal(expected.Select(w => w.Value).Order(), converged.Values.Order());
            },
            iter: Laws.Iterations);

    [Fact]
    public void MVRegister_keeps_concurrent_writes_until_a_write_sees_them()
    {
        NodeId a = new(0), b = new(1);
        var (atA, fromA) = MVRegister<string>.Empty.Set(a, "x");
        var (atB, fromB) = MVRegister<string>.Empty.Set(b, "y");
        MVRegister<string> both = atA.Merge(fromB);
        Assert.Equal(["x", "y"], both.Values.Order());
        Assert.Equal(both, atB.Merge(fromA));

        var (resolved, resolution) = both.Set(a, "z");
        Assert.Equal(["z"], resolved.Values);
        Assert.Equal(["z"], atB.Merge(resolution).Values);
    }

    /// <summary>Writers with their own skewed clocks over one simulated true time.</summary>
    private static Func<LwwRegister<int>, NodeId, (int Value, int AdvanceMs, int SkewMs), DeltaMutation<LwwRegister<int>>> NewLwwWriter()
    {
        var truth = new FakeTimeProvider(Start);
        var times = new Dictionary<NodeId, SkewedTimeProvider>();
        var clocks = new Dictionary<NodeId, HybridLogicalClock>();
        return (state, writer, op) =>
        {
            if (!clocks.TryGetValue(writer, out var clock))
            {
                times[writer] = new SkewedTimeProvider(truth);
                clocks[writer] = clock = new HybridLogicalClock(times[writer], maxOffsetMs: 500);
            }

            truth.Advance(TimeSpan.FromMilliseconds(op.AdvanceMs));
            times[writer].Skew = TimeSpan.FromMilliseconds(op.SkewMs);
            return state.Set(op.Value, writer, clock);
        };
    }
}
