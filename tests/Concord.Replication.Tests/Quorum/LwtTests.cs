using Concord.Core;
using Concord.Core.Clocks;
using Concord.Replication.Quorum;

namespace Concord.Replication.Tests.Quorum;

/// <summary>The acceptor rules of lightweight transactions, one message at a time, and the coordinator's repair and timeout rules.</summary>
public sealed class LwtTests
{
    private const string Key = "k";
    private static readonly NodeId A = TestCluster.A;
    private static readonly NodeId B = TestCluster.B;
    private static readonly NodeId C = TestCluster.C;
    private static readonly NodeId Client = TestCluster.Client;
    private static readonly NodeId Proposer = new(7);
    private static readonly HashRing Ring = new([new(A, "eu"), new(B, "eu"), new(C, "us")], 3);

    private static Ballot At(long us, NodeId? proposer = null) => new(new HlcTimestamp(us, 0), proposer ?? Proposer);

    /// <summary>What a node's HLC reads now: µs since the HLC origin (see MicrosecondHlcClock).</summary>
    private static long HlcUs(ManualClock clock) => (clock.GetUtcNow() - MicrosecondHlcClock.DefaultOrigin).Ticks / TimeSpan.TicksPerMicrosecond;

    private static (QuorumNode Node, TestHost Host) Acceptor(QuorumConfig? config = null)
    {
        var node = new QuorumNode(A, Ring, config ?? new QuorumConfig(), new ManualClock());
        var host = new TestHost();
        node.Start(host);
        return (node, host);
    }

    private static T Reply<T>(TestHost host) => Assert.IsType<T>(Assert.Single(host.Drain()).Message);

    [Fact]
    public void A_replica_promises_only_ballots_above_every_ballot_it_promised()
    {
        (QuorumNode node, TestHost host) = Acceptor();
        node.Receive(Proposer, new PaxosPrepare(1, 1, Key, At(10), false), host);
        Assert.True(Reply<PaxosPromise>(host).Promised);

        node.Receive(Proposer, new PaxosPrepare(2, 1, Key, At(10), false), host);
        PaxosPromise equal = Reply<PaxosPromise>(host);
        Assert.False(equal.Promised);
        Assert.Equal(At(10), equal.PromisedBallot);

        node.Receive(Proposer, new PaxosPrepare(3, 1, Key, At(9, C), false), host);
        Assert.False(Reply<PaxosPromise>(host).Promised);

        // Same timestamp, higher node id: ballots are totally ordered by (timestamp, proposer).
        node.Receive(Proposer, new PaxosPrepare(4, 1, Key, At(10, new NodeId(8)), false), host);
        Assert.True(Reply<PaxosPromise>(host).Promised);
    }

    [Fact]
    public void A_promise_is_durable_before_it_is_sent_and_survives_a_restart()
    {
        (QuorumNode node, TestHost host) = Acceptor();
        node.Receive(Proposer, new PaxosPrepare(1, 1, Key, At(10), false), host);
        Assert.Equal(new PaxosAcceptorState(At(10), null, null), host.Durable["paxos/" + Key]);

        var restarted = new QuorumNode(A, Ring, new QuorumConfig(), new ManualClock());
        var after = new TestHost();
        restarted.Restart(host.Durable.OrderBy(kv => kv.Key, StringComparer.Ordinal), after);
        restarted.Receive(Proposer, new PaxosPrepare(2, 1, Key, At(9), false), after);
        Assert.False(Reply<PaxosPromise>(after).Promised);
        restarted.Receive(Proposer, new PaxosPropose(3, 1, Key, new Proposal(At(9), 5)), after);
        Assert.False(Reply<PaxosAcceptReply>(after).Accepted);
    }

    [Fact]
    public void A_replica_accepts_at_or_above_its_promise_and_reports_the_accepted_proposal_in_later_promises()
    {
        (QuorumNode node, TestHost host) = Acceptor();
        node.Receive(Proposer, new PaxosPrepare(1, 1, Key, At(10), false), host);
        host.Drain();

        node.Receive(Proposer, new PaxosPropose(1, 1, Key, new Proposal(At(9), 1)), host);
        Assert.False(Reply<PaxosAcceptReply>(host).Accepted);

        node.Receive(Proposer, new PaxosPropose(1, 1, Key, new Proposal(At(10), 2)), host);
        Assert.True(Reply<PaxosAcceptReply>(host).Accepted);
        Assert.Equal(new Proposal(At(10), 2), ((PaxosAcceptorState)host.Durable["paxos/" + Key]).InProgress);

        // A higher proposal may be accepted without a prepare: its ballot was promised by some majority.
        node.Receive(Proposer, new PaxosPropose(2, 1, Key, new Proposal(At(12, B), 3)), host);
        Assert.True(Reply<PaxosAcceptReply>(host).Accepted);

        node.Receive(Proposer, new PaxosPrepare(3, 1, Key, At(20), true), host);
        PaxosPromise promise = Reply<PaxosPromise>(host);
        Assert.True(promise.Promised);
        Assert.Equal(new Proposal(At(12, B), 3), promise.InProgress);
        Assert.Null(promise.Value); // accepted is not committed: the stored value is untouched
    }

    [Fact]
    public void A_commit_applies_the_value_and_retires_older_proposals_but_not_newer_ones()
    {
        (QuorumNode node, TestHost host) = Acceptor();
        node.Receive(Proposer, new PaxosPropose(1, 1, Key, new Proposal(At(10), 1)), host);
        node.Receive(Proposer, new PaxosCommit(1, 1, Key, new Proposal(At(10), 1)), host);
        host.Drain();
        Assert.Equal(new PaxosAcceptorState(At(10), null, new Proposal(At(10), 1)), node.PaxosStates[Key]);
        Assert.Equal([1L], node.Store[Key].Values);

        node.Receive(Proposer, new PaxosPropose(2, 1, Key, new Proposal(At(20), 2)), host);
        // A late commit of an older round: the value loses last-write-wins, the newer proposal stays in progress.
        node.Receive(Proposer, new PaxosCommit(3, 1, Key, new Proposal(At(5), 9)), host);
        Assert.Equal(new Proposal(At(20), 2), node.PaxosStates[Key].InProgress);
        Assert.Equal(new Proposal(At(10), 1), node.PaxosStates[Key].MostRecentCommit);
        Assert.Equal([1L], node.Store[Key].Values);

        node.Receive(Proposer, new PaxosPrepare(4, 1, Key, At(30), true), host);
        PaxosPromise promise = host.Drain().Select(s => s.Message).OfType<PaxosPromise>().Single();
        Assert.Equal(new Proposal(At(20), 2), promise.InProgress);
        Assert.Equal(new Proposal(At(10), 1), promise.MostRecentCommit);
        Assert.Equal([1L], promise.Value!.Values);
    }

    private static TestCluster Cluster(QuorumConfig config) => new(3, config);

    private static ClientReply Cas(TestCluster cluster, NodeId coordinator, long? expected, long value, Func<NodeId, NodeId, QuorumMessage, bool>? drop = null)
    {
        cluster.Replies.Clear();
        cluster.Nodes[coordinator].Receive(Client, new ClientRequest(1, Client, OperationKind.PaxosCompareAndSet, Key, value, Consistency.Quorum, expected), cluster.Hosts[coordinator]);
        cluster.Deliver(drop ?? ((_, _, _) => false));
        return Assert.Single(cluster.Replies);
    }

    /// <summary>A proposer that crashed after its proposal reached <paramref name="acceptors"/>, before any commit.</summary>
    private static void AcceptedOnlyBy(TestCluster cluster, Proposal proposal, params NodeId[] acceptors)
    {
        foreach (NodeId acceptor in acceptors)
        {
            cluster.Nodes[acceptor].Receive(Proposer, new PaxosPrepare(0, 1, Key, proposal.Ballot, false), cluster.Hosts[acceptor]);
            cluster.Nodes[acceptor].Receive(Proposer, new PaxosPropose(0, 1, Key, proposal), cluster.Hosts[acceptor]);
            cluster.Hosts[acceptor].Drain();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_coordinator_finishes_an_in_progress_proposal_before_its_own(bool readInPrepare)
    {
        var cluster = Cluster(new QuorumConfig { Lwt = new LwtConfig { ReadInPrepare = readInPrepare } });
        Assert.Equal(ReplyStatus.Ok, Cas(cluster, C, null, 1).Status);

        // 2 was chosen (a majority accepted it), but its coordinator never committed: the stored value is still 1.
        cluster.Clock.NowUs += 1_000_000;
        AcceptedOnlyBy(cluster, new Proposal(At(HlcUs(cluster.Clock) - 1), 2), A, B);

        // A compare against the stored value must fail: 2 is the current value once finished.
        ClientReply reply = Cas(cluster, C, 1, 3);
        Assert.Equal(ReplyStatus.CompareFailed, reply.Status);
        Assert.Equal([2L], reply.Values);
        Assert.Equal(1, cluster.Nodes[C].Stats.LwtInProgressRepairs);
        Assert.All(cluster.Nodes.Values, n => Assert.Equal([2L], n.Store[Key].Values));
    }

    [Fact]
    public void Without_the_repair_rule_a_chosen_value_is_overwritten_negative_control()
    {
        var cluster = Cluster(new QuorumConfig { Lwt = new LwtConfig { UnsafeSkipInProgressRepair = true } });
        Assert.Equal(ReplyStatus.Ok, Cas(cluster, C, null, 1).Status);
        cluster.Clock.NowUs += 1_000_000;
        AcceptedOnlyBy(cluster, new Proposal(At(HlcUs(cluster.Clock) - 1), 2), A, B);
        Assert.Equal(ReplyStatus.Ok, Cas(cluster, C, 1, 3).Status);
    }

    [Fact]
    public void A_proposal_accepted_by_a_minority_then_pre_empted_is_a_timeout_not_a_retry()
    {
        var cluster = Cluster(new QuorumConfig());
        Assert.Equal(ReplyStatus.Ok, Cas(cluster, A, null, 1).Status);

        // Between our promise and our proposal, B and C promise a higher ballot: only A accepts ours.
        bool raced = false;
        ClientReply reply = Cas(cluster, A, 1, 2, (from, to, message) =>
        {
            if (message is PaxosPropose && !raced)
            {
                raced = true;
                foreach (NodeId other in new[] { B, C })
                {
                    cluster.Nodes[other].Receive(Proposer, new PaxosPrepare(0, 1, Key, At(HlcTimestamp.PhysicalMsMax - 1), false), cluster.Hosts[other]);
                    cluster.Hosts[other].Drain();
                }
            }

            return false;
        });

        // A holds our value: a later coordinator may finish it. Only "unknown" is a true answer.
        Assert.Equal(ReplyStatus.Timeout, reply.Status);
        Assert.Equal(2, cluster.Nodes[A].PaxosStates[Key].InProgress?.Value);
    }

    [Fact]
    public void A_fully_refused_proposal_backs_off_for_a_random_time_and_retries_with_a_higher_ballot()
    {
        var config = new QuorumConfig { Lwt = new LwtConfig { BackoffUsMax = 1_000 } };
        var cluster = Cluster(config);
        Ballot high = At(HlcUs(cluster.Clock) + 5_000, B);
        foreach (NodeId node in new[] { A, B, C })
        {
            cluster.Nodes[node].Receive(Proposer, new PaxosPrepare(0, 1, Key, high, false), cluster.Hosts[node]);
            cluster.Hosts[node].Drain();
        }

        cluster.Nodes[A].Receive(Client, new ClientRequest(1, Client, OperationKind.PaxosCompareAndSet, Key, 1, Consistency.Quorum), cluster.Hosts[A]);
        cluster.Deliver();
        Assert.Empty(cluster.Replies);
        Assert.Equal(1, cluster.Nodes[A].Stats.LwtContentionRetries);
        (long delayUs, long tag) = cluster.Hosts[A].Timers[^1];
        Assert.InRange(delayUs, 1, 1_001);

        cluster.Nodes[A].OnTimer(tag, cluster.Hosts[A]);
        cluster.Deliver();
        Assert.Equal(ReplyStatus.Ok, Assert.Single(cluster.Replies).Status);
        Assert.True(cluster.Nodes[B].PaxosStates[Key].MostRecentCommit!.Ballot > high);
    }
}
