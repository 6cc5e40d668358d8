using Concord.Checkers.Linearizability;
using Concord.Checkers.Staleness;
using Concord.Experiments.Raft;
using Concord.Simulation.Faults;
using Concord.Simulation.History;

namespace Concord.Experiments.Tests.Raft;

/// <summary>Lease and follower reads with their negative controls, sharded groups with pinned leaders, failover.</summary>
public sealed class RaftReadsAndFailoverTests(ITestOutputHelper output)
{
    // The leader's clock runs at half speed and the others' at 1.5×: the worst the lease must survive.
    private const long DriftPpm = 500_000;

    private static LinearizabilityResult Check(RaftKvRunResult result) =>
        LinearizabilityChecker.Check(result.History, Models.CasRegister, new CheckBudget { MaxSteps = 2_000_000 });

    [Fact]
    public void Leases_within_the_drift_bound_stay_linearizable_when_the_leader_is_cut_off_and_clocks_drift()
    {
        for (ulong seed = 1; seed <= 10; seed++)
        {
            RaftKvRunResult result = RaftKvRun.Execute(RaftKvRunOptions.PartitionedLeader(seed, lease: true, DriftPpm));
            output.WriteLine($"seed={seed} lease reads={result.ReadsServedByLease} acked={result.Acknowledged} {result.Failover}");
            Assert.True(result.ReadsServedByLease > 100, "most leader reads should ride the lease");
            Assert.NotNull(result.Failover?.NewLeader);
            LinearizabilityResult check = Check(result);
            Assert.True(check.Verdict == LinearizabilityVerdict.Linearizable, $"seed={seed}: {check.Describe()}");
        }
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(12UL)]
    [InlineData(13UL)]
    public void A_lease_that_ignores_clock_drift_serves_a_stale_read_the_checker_catches(ulong seed)
    {
        // Found by running seeds 1–20 of PartitionedLeader with LeaseIgnoresClockDrift: caught in 1, 12, 13, 14, 18.
        RaftKvRunResult result = RaftKvRun.Execute(RaftKvRunOptions.PartitionedLeader(seed, lease: true, DriftPpm) with { LeaseIgnoresClockDrift = true });
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(result).Verdict);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(12UL)]
    [InlineData(16UL)]
    public void A_leader_that_reads_without_a_heartbeat_round_serves_a_stale_read_the_checker_catches(ulong seed)
    {
        // Found by running seeds 1–20 of PartitionedLeader with ReadWithoutHeartbeatRound: caught in 1, 12, 13, 14, 16, 18.
        RaftKvRunResult result = RaftKvRun.Execute(RaftKvRunOptions.PartitionedLeader(seed, lease: false, DriftPpm) with { ReadWithoutHeartbeatRound = true });
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(result).Verdict);
    }

    /// <summary>Leader in eu, clients in us reading from their nearby us follower: a write's commit reaches that follower a heartbeat later.</summary>
    private static RaftKvRunOptions FollowerReads(ulong seed, KvReadMode mode) => new()
    {
        Seed = seed,
        Regions = 2,
        ClientRegions = ["us"],
        LeaderRegions = ["eu"],
        Workload = new RaftKvWorkloadOptions { OperationCount = 300, KeyCount = 2, ReadFraction = 0.5, CasFraction = 0, ReadMode = mode },
    };

    [Fact]
    public void Follower_reads_with_an_index_token_always_see_the_clients_own_writes_and_without_it_miss_them()
    {
        RaftKvRunResult withToken = RaftKvRun.Execute(FollowerReads(3, KvReadMode.FollowerWithToken));
        RaftKvRunResult withoutToken = RaftKvRun.Execute(FollowerReads(3, KvReadMode.Follower));
        output.WriteLine($"token: misses={withToken.Clients.ReadYourWritesMisses} read p50={withToken.Read.P50Ms} ms; no token: misses={withoutToken.Clients.ReadYourWritesMisses} read p50={withoutToken.Read.P50Ms} ms");

        Assert.Equal(0, withToken.Clients.ReadYourWritesMisses);
        Assert.True(withoutToken.Clients.ReadYourWritesMisses > 0, "the negative control must miss some of the client's own writes");
        Assert.True(withToken.Read.Count > 100 && withoutToken.Read.Count > 100);
        // Served by the nearby replica, not across the 40 ms link to the leader.
        Assert.True(withoutToken.Read.P50Ms < 10, $"follower reads p50 {withoutToken.Read.P50Ms} ms");
    }

    /// <summary>
    /// eu holds three servers and the leader, us one server (n3) and the clients, which read from n3;
    /// from 2 s to 3 s n3 is cut off from eu while the clients still reach it, so its state freezes.
    /// </summary>
    private static RaftKvRunOptions FrozenFollower(int staleTicksMax) => new()
    {
        Seed = 4,
        Regions = 2,
        ServersByRegion = [3, 1],
        ClientRegions = ["us"],
        LeaderRegions = ["eu"],
        ElectionTicks = 30,
        HeartbeatTicks = 3,
        FollowerReadStaleTicksMax = staleTicksMax,
        Faults = [new(2_000_000, 3_000_000, new PartitionFault([new(3)], [new(0), new(1), new(2)], Bidirectional: true))],
        Workload = new RaftKvWorkloadOptions { OperationCount = 600, KeyCount = 2, ReadFraction = 0.5, CasFraction = 0, ReadMode = KvReadMode.Follower },
    };

    [Fact]
    public void Bounded_stale_follower_reads_stay_within_the_bound_when_the_follower_is_cut_off_and_unbounded_ones_do_not()
    {
        // 4 ticks without the leader (40 ms), plus the heartbeat interval (30 ms) and the 40 ms link that carry commits to n3.
        const double BoundMs = 40 + 30 + 45;
        StaleReadReport bounded = StaleReadChecker.Check(RaftKvRun.Execute(FrozenFollower(staleTicksMax: 4)).History);
        StaleReadReport unbounded = StaleReadChecker.Check(RaftKvRun.Execute(FrozenFollower(staleTicksMax: 10_000)).History);
        output.WriteLine($"bounded: {bounded.Describe()} | unbounded: {unbounded.Describe()}");

        Assert.InRange(bounded.MaxStalenessMs!.Value, 0, BoundMs);
        // Without the tick bound n3 serves until its own election timer (300–600 ms) makes it forget its leader.
        Assert.True(unbounded.MaxStalenessMs > BoundMs, $"a cut-off follower that keeps serving falls behind the bound; max {unbounded.MaxStalenessMs} ms");
    }

    [Fact]
    public void Leader_reads_with_leases_are_linearizable_and_follower_reads_are_not()
    {
        RaftKvRunResult follower = RaftKvRun.Execute(FollowerReads(3, KvReadMode.Follower));
        RaftKvRunResult leader = RaftKvRun.Execute(FollowerReads(3, KvReadMode.Leader) with { LeaseClockDriftPpmMax = 1_000 });
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(follower).Verdict);
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(leader).Verdict);
        Assert.True(leader.ReadsServedByLease > 0);
    }

    [Fact]
    public void Sharded_groups_hand_leadership_to_their_preferred_region_and_stay_linearizable()
    {
        RaftKvRunResult result = RaftKvRun.Execute(new RaftKvRunOptions
        {
            Seed = 5,
            Regions = 2,
            Groups = 3,
            LeaderRegions = ["eu", "us", "eu"],
            // Election timeouts of 300–600 ms, well above the 80 ms round trip between the regions.
            ElectionTicks = 30,
            HeartbeatTicks = 3,
            SnapshotEveryEntries = 20,
            Workload = new RaftKvWorkloadOptions { OperationCount = 600, KeyCount = 6 },
        });
        output.WriteLine($"redirects={result.Clients.Redirects} timeouts={result.Clients.Timeouts} leaders={result.LeadersElected}");
        // Only operations issued before the first elections (300–600 ms) may time out.
        Assert.All(result.Entries.Where(e => e.InvokeUs > 1_000_000), e => Assert.True(e.Completion is CompletionType.Ok or CompletionType.Fail, e.ToString()));
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(result).Verdict);
        Assert.NotNull(result.Leaders);
        Assert.Equal(["eu", "us", "eu"], result.Leaders.Select(l => l.Region));
        Assert.True(result.SnapshotsTaken > 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Failover_under_load_reports_the_unavailability_window_and_loses_no_acknowledged_write(bool crash)
    {
        RaftKvRunResult result = RaftKvRun.Execute(RaftKvRunOptions.Failover(seed: 2, crash));
        FailoverReport failover = Assert.IsType<FailoverReport>(result.Failover);
        output.WriteLine($"{failover}; redirects={result.Clients.Redirects} timeouts={result.Clients.Timeouts} acked={result.Acknowledged}/{result.Entries.Count}");

        Assert.NotNull(failover.NewLeader);
        Assert.NotEqual(failover.OldLeader, failover.NewLeader);
        // At least the followers' election timeout (10 ticks of 10 ms, less under ±500 ppm drift), at most a few.
        Assert.InRange(failover.UnavailableUs!.Value, 90_000, 1_000_000);
        Assert.Equal(0, result.LostAcknowledgedWrites);
        Assert.True(result.Clients.Timeouts > 0, "operations in flight at the old leader end unknown");
        Assert.True(result.Clients.Redirects > 0, "clients that ask a follower are sent to the new leader");
        Assert.Equal(LinearizabilityVerdict.Linearizable, Check(result).Verdict);
    }
}
