using Concord.Core;
using Concord.Replication.Raft;

namespace Concord.Replication.Tests.Raft;

/// <summary>Log compaction and InstallSnapshot, lease reads and their bound, leadership transfer.</summary>
public sealed class RaftCompactionLeaseTransferTests
{
    private static RaftConfig WithLease(RaftConfig config) =>
        config with { Lease = new ReadLease(RaftCluster.TickUs, ClockDriftPpmMax: 500) };

    [Fact]
    public void A_follower_behind_the_compacted_log_catches_up_from_a_snapshot()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        NodeId lagging = cluster.Voters.First(v => v != leader);
        cluster.Crash(lagging);
        foreach (string command in new[] { "a", "b", "c", "d" })
        {
            Assert.True(cluster.Propose(leader, command));
        }

        Snapshot snapshot = cluster.Compact(leader);
        Assert.True(cluster.Propose(leader, "e"));
        Assert.Equal(snapshot.Index, cluster.Nodes[leader].SnapshotIndex);
        Assert.DoesNotContain(cluster.Durable[leader].Log, e => e.Index <= snapshot.Index);

        cluster.Restart(lagging);
        cluster.TickAll(5);

        Assert.Equal(snapshot, cluster.Snapshots[lagging]);
        Assert.Equal(["a", "b", "c", "d", "e"], cluster.State[lagging]);
        // Only "e" came as a log entry: the rest arrived inside the snapshot.
        Assert.Equal(["e"], cluster.Applied[lagging].Where(e => e.Command is not null).Select(e => e.Command));
        Assert.Equal(cluster.Nodes[leader].Log, cluster.Nodes[lagging].Log);
    }

    [Fact]
    public void A_node_restarts_from_its_snapshot_and_the_entries_after_it()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        NodeId follower = cluster.Voters.First(v => v != leader);
        cluster.Propose(leader, "a");
        cluster.Propose(leader, "b");
        cluster.TickAll(2);
        Snapshot snapshot = cluster.Compact(follower);
        cluster.Propose(leader, "c");
        cluster.TickAll(2);

        cluster.Crash(follower);
        cluster.Restart(follower);
        cluster.TickAll(2);

        Assert.Equal(snapshot.Index, cluster.Nodes[follower].SnapshotIndex);
        Assert.Equal(["a", "b", "c"], cluster.State[follower]);
        Assert.All(cluster.Applied[follower], e => Assert.True(e.Index > snapshot.Index, $"{e} was re-applied although the snapshot holds it"));
    }

    [Fact]
    public void Compact_refuses_an_index_that_is_not_applied_or_already_compacted()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        cluster.Propose(leader, "a");
        RaftNode node = cluster.Nodes[leader];
        Assert.Throws<ArgumentOutOfRangeException>(() => node.Compact(node.Commit + 1, ""));
        node.Compact(node.Commit, "a");
        Assert.Throws<ArgumentOutOfRangeException>(() => node.Compact(node.Commit, "a"));
    }

    [Fact]
    public void The_lease_bound_shrinks_with_the_drift_bound_and_the_tick_a_follower_may_lose()
    {
        var config = new RaftConfig
        {
            Voters = [new NodeId(0)],
            ElectionTicks = 10,
            Lease = new ReadLease(TickUs: 10_000, ClockDriftPpmMax: 0),
        };
        Assert.Equal(90_000, config.LeaseDurationUs);
        // (10 − 1) × 10 ms × (1 − 0.05) / (1 + 0.05) − 1 ms
        Assert.Equal(80_428, (config with { Lease = new ReadLease(10_000, 50_000, MarginUs: 1_000) }).LeaseDurationUs);
        Assert.Equal(89_000, (config with { Lease = new ReadLease(10_000, 50_000, MarginUs: 1_000), UnsafeLeaseIgnoresClockDrift = true }).LeaseDurationUs);

        Assert.Contains((config with { CheckQuorum = false }).Problems(new NodeId(0)), p => p.Contains("Lease needs CheckQuorum", StringComparison.Ordinal));
        Assert.Contains((config with { Lease = new ReadLease(10_000, 0, MarginUs: 90_000) }).Problems(new NodeId(0)), p => p.Contains("would last 0", StringComparison.Ordinal));
    }

    [Fact]
    public void A_valid_lease_answers_a_read_without_a_heartbeat_round_and_expires_on_time()
    {
        var cluster = new RaftCluster(3, configure: WithLease);
        NodeId leader = cluster.ElectLeader();
        cluster.TickAll(cluster.Config.HeartbeatTicks);
        RaftNode node = cluster.Nodes[leader];
        Assert.True(node.HasValidLease);

        int traced = cluster.Trace.Count;
        Assert.True(cluster.ReadIndex(leader, 1));
        Assert.Equal(traced, cluster.Trace.Count);
        Assert.Equal(new ReadState(1, node.Commit), Assert.Single(cluster.Reads));
        Assert.Equal(1, node.ReadsServedByLease);

        // Cut off, the leader's heartbeats go unanswered: the lease runs out LeaseDurationUs after the last acknowledged round left.
        cluster.Isolate(leader);
        long lastRoundSentUs = cluster.Clock.NowUs;
        cluster.Clock.NowUs = lastRoundSentUs + cluster.Config.LeaseDurationUs - 1;
        Assert.True(node.HasValidLease);
        cluster.Clock.NowUs = lastRoundSentUs + cluster.Config.LeaseDurationUs;
        Assert.False(node.HasValidLease);
        Assert.True(cluster.ReadIndex(leader, 2));
        Assert.Single(cluster.Reads);
    }

    [Fact]
    public void With_leases_a_follower_that_hears_from_its_leader_and_a_just_restarted_node_refuse_votes()
    {
        var cluster = new RaftCluster(3, configure: WithLease);
        NodeId leader = cluster.ElectLeader();
        NodeId voter = cluster.Voters.First(v => v != leader);
        NodeId candidate = cluster.Voters.First(v => v != leader && v != voter);
        long term = cluster.Nodes[voter].Term;

        cluster.Crash(voter);
        cluster.Restart(voter);
        var vote = new RaftMessage(RaftMessageType.Vote, candidate, voter, term + 1) { Index = 100, LogTerm = term };
        cluster.Nodes[voter].Step(vote);
        Assert.Equal(term, cluster.Nodes[voter].Term);
        Assert.NotEqual(candidate, cluster.Nodes[voter].VotedFor);

        // After an election timeout without a leader it votes again.
        cluster.Isolate(voter);
        for (int i = 0; i < cluster.Config.ElectionTicks; i++)
        {
            cluster.Nodes[voter].Tick();
            cluster.Deliver(voter);
        }

        cluster.Nodes[voter].Step(vote with { Term = cluster.Nodes[voter].Term + 1 });
        Assert.Equal(candidate, cluster.Nodes[voter].VotedFor);
    }

    [Fact]
    public void A_transfer_to_a_lagging_target_refuses_proposals_until_the_target_has_caught_up_and_leads()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        NodeId target = cluster.Voters.First(v => v != leader);
        cluster.Crash(target);
        cluster.Propose(leader, "a");
        cluster.Restart(target);

        Assert.True(cluster.Nodes[leader].TransferLeadership(target));
        Assert.False(cluster.Nodes[leader].TransferLeadership(target));
        Assert.False(cluster.Propose(leader, "refused during the transfer"));
        cluster.TickAll(3);

        Assert.Equal(RaftRole.Leader, cluster.Nodes[target].Role);
        Assert.Equal(target, cluster.Nodes[leader].Leader);
        Assert.True(cluster.Propose(target, "b"));
        cluster.TickAll();
        Assert.All(cluster.Voters, v => Assert.Equal(["a", "b"], cluster.State[v]));
    }

    [Fact]
    public void A_leader_that_starts_a_transfer_gives_up_its_lease_for_the_rest_of_the_term()
    {
        var cluster = new RaftCluster(3, configure: WithLease);
        NodeId leader = cluster.ElectLeader();
        cluster.TickAll(cluster.Config.HeartbeatTicks);
        Assert.True(cluster.Nodes[leader].HasValidLease);
        NodeId target = cluster.Voters.First(v => v != leader);
        cluster.Isolate(target);
        Assert.True(cluster.Nodes[leader].TransferLeadership(target));
        Assert.False(cluster.Nodes[leader].HasValidLease);

        // The TimeoutNow was lost and the transfer times out; the lease stays forfeited all the same.
        cluster.TickAll(cluster.Config.ElectionTicks + 2);
        Assert.Equal(RaftRole.Leader, cluster.Nodes[leader].Role);
        Assert.Null(cluster.Nodes[leader].Transferee);
        Assert.False(cluster.Nodes[leader].HasValidLease);
    }
}
