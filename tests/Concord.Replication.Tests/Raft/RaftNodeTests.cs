using Concord.Core;
using Concord.Core.Randomness;
using Concord.Replication.Raft;

namespace Concord.Replication.Tests.Raft;

public sealed class RaftNodeTests
{
    [Fact]
    public void Elects_one_leader_and_replicates_to_every_node()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        Assert.Equal(1, cluster.Voters.Count(v => cluster.Nodes[v].Role == RaftRole.Leader));

        Assert.True(cluster.Propose(leader, "a"));
        Assert.True(cluster.Propose(leader, "b"));
        cluster.TickAll(3);

        foreach (NodeId v in cluster.Voters)
        {
            Assert.Equal(["a", "b"], cluster.Applied[v].Where(e => e.Command is not null).Select(e => e.Command));
            Assert.Equal(cluster.Nodes[leader].Log, cluster.Durable[v].Log);
        }
    }

    [Fact]
    public void A_follower_refuses_proposals()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        NodeId follower = cluster.Voters.First(v => v != leader);
        Assert.False(cluster.Propose(follower, "x"));
        Assert.Equal(leader, cluster.Nodes[follower].Leader);
    }

    [Fact]
    public void An_isolated_leader_is_replaced_and_its_uncommitted_entry_is_overwritten()
    {
        var cluster = new RaftCluster(3);
        NodeId old = cluster.ElectLeader();
        cluster.Isolate(old);
        Assert.True(cluster.Propose(old, "lost"));
        cluster.TickAll(40);

        // Check-quorum: the cut-off leader stepped down on its own.
        Assert.NotEqual(RaftRole.Leader, cluster.Nodes[old].Role);
        NodeId fresh = cluster.ElectLeader();
        Assert.NotEqual(old, fresh);
        Assert.True(cluster.Propose(fresh, "kept"));
        cluster.Heal();
        cluster.TickAll(20);

        foreach (NodeId v in cluster.Voters)
        {
            Assert.DoesNotContain(cluster.Applied[v], e => e.Command == "lost");
            Assert.Contains(cluster.Applied[v], e => e.Command == "kept");
            Assert.Equal(cluster.Nodes[fresh].Log, cluster.Nodes[v].Log);
        }
    }

    [Fact]
    public void Pre_vote_keeps_an_isolated_follower_from_inflating_the_term()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        NodeId follower = cluster.Voters.First(v => v != leader);
        long term = cluster.Nodes[leader].Term;
        cluster.Isolate(follower);
        cluster.TickAll(100);
        Assert.Equal(term, cluster.Nodes[follower].Term);

        cluster.Heal();
        cluster.TickAll(5);
        Assert.Equal(leader, cluster.Leader);
        Assert.Equal(term, cluster.Nodes[leader].Term);
    }

    [Fact]
    public void A_restarted_node_recovers_term_vote_and_log_from_durable_state()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        cluster.Propose(leader, "a");
        cluster.TickAll(2);
        NodeId follower = cluster.Voters.First(v => v != leader);
        long term = cluster.Nodes[follower].Term;
        cluster.Crash(follower);
        cluster.Propose(leader, "b");
        cluster.Restart(follower);
        Assert.Equal(term, cluster.Nodes[follower].Term);
        cluster.TickAll(5);
        Assert.Equal(["a", "b"], cluster.Applied[follower].Where(e => e.Command is not null).Select(e => e.Command));
    }

    [Fact]
    public void ReadIndex_needs_a_heartbeat_quorum_and_returns_the_commit_index()
    {
        var cluster = new RaftCluster(3);
        NodeId leader = cluster.ElectLeader();
        cluster.Propose(leader, "a");
        cluster.TickAll(2);
        Assert.True(cluster.ReadIndex(leader, 7));
        ReadState read = Assert.Single(cluster.Reads);
        Assert.Equal(new ReadState(7, cluster.Nodes[leader].Commit), read);

        NodeId follower = cluster.Voters.First(v => v != leader);
        Assert.False(cluster.ReadIndex(follower, 8));

        cluster.Isolate(leader);
        Assert.True(cluster.ReadIndex(leader, 9));
        Assert.DoesNotContain(cluster.Reads, r => r.RequestId == 9);
    }

    [Fact]
    public void Flow_control_bounds_appends_in_flight_and_batches_entries()
    {
        var cluster = new RaftCluster(3, configure: c => c with { EntriesPerAppendMax = 4, InflightAppendsMax = 2 });
        NodeId leader = cluster.ElectLeader();
        RaftNode node = cluster.Nodes[leader];
        cluster.Isolate(leader);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(node.Propose("x" + i));
        }

        Ready ready = node.TakeReady();
        node.Advance();
        foreach (IGrouping<NodeId, RaftMessage> perPeer in ready.Messages.Where(m => m.Type == RaftMessageType.Append).GroupBy(m => m.To))
        {
            Assert.True(perPeer.Count() <= 2 + 20, "one probe or a bounded window per proposal");
            Assert.All(perPeer, m => Assert.True(m.Entries.Length <= 4));
        }

        int unacked = ready.Messages.Count(m => m.Type == RaftMessageType.Append && m.To == cluster.Voters.First(v => v != leader) && m.Entries.Length > 0);
        Assert.True(unacked <= 2, $"window of 2, saw {unacked}");
    }

    [Fact]
    public void Proposals_are_refused_past_the_uncommitted_bound()
    {
        var cluster = new RaftCluster(3, configure: c => c with { UncommittedEntriesMax = 3 });
        NodeId leader = cluster.ElectLeader();
        cluster.Isolate(leader);
        Assert.True(cluster.Propose(leader, "1"));
        Assert.True(cluster.Propose(leader, "2"));
        Assert.True(cluster.Propose(leader, "3"));
        Assert.False(cluster.Propose(leader, "4"));
    }

    [Fact]
    public void Inputs_before_Advance_are_refused()
    {
        var node = new RaftNode(new NodeId(0), new RaftConfig { Voters = [new NodeId(0)] }, new SeededRandom(1));
        for (int i = 0; i < 30 && node.Role != RaftRole.Leader; i++)
        {
            node.Tick();
        }

        Assert.Equal(RaftRole.Leader, node.Role);
        Ready ready = node.TakeReady();
        Assert.Equal(1, ready.HardState!.Value.Term);
        Assert.Single(ready.CommittedEntries);
        Assert.Throws<InvalidOperationException>(node.Tick);
        node.Advance();
        Assert.False(node.HasReady);
    }

    [Fact]
    public void Invalid_config_is_refused_with_every_problem()
    {
        var bad = new RaftConfig { Voters = [new NodeId(1), new NodeId(1)], ElectionTicks = 1, HeartbeatTicks = 1 };
        var error = Assert.Throws<ArgumentException>(() => new RaftNode(new NodeId(0), bad, new SeededRandom(1)));
        Assert.Contains("distinct", error.Message, StringComparison.Ordinal);
        Assert.Contains("include this node", error.Message, StringComparison.Ordinal);
        Assert.Contains("ElectionTicks", error.Message, StringComparison.Ordinal);
    }
}
