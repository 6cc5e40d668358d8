using Concord.Core;
using Concord.Core.Checksums;
using Concord.Core.Clocks;
using Concord.Replication.Quorum;

namespace Concord.Replication.Tests.Quorum;

public sealed class QuorumNodeTests
{
    private static readonly NodeId A = new(0);
    private static readonly NodeId B = new(1);
    private static readonly NodeId C = new(2);
    private static readonly NodeId Client = new(99);

    [Fact]
    public void Quorum_write_is_acknowledged_and_a_silent_replica_gets_a_hint_after_the_timeout()
    {
        var cluster = new TestCluster(3, new QuorumConfig { AntiEntropyIntervalUs = 0 });
        cluster.Nodes[A].Receive(Client, new ClientRequest(1, Client, OperationKind.Write, "k", 42, Consistency.Quorum), cluster.Hosts[A]);
        cluster.Deliver(down: C);
        Assert.Equal(ReplyStatus.Ok, Assert.Single(cluster.Replies).Status);
        Assert.False(cluster.Nodes[C].Store.ContainsKey("k"));

        long timeoutTag = cluster.Hosts[A].Timers.Single(t => t.Tag >> 56 == 1).Tag;
        cluster.Nodes[A].OnTimer(timeoutTag, cluster.Hosts[A]);
        Assert.Equal(1, cluster.Nodes[A].HintCount);
        Assert.Single(cluster.Hosts[A].Durable.Keys, k => k.StartsWith("hint/", StringComparison.Ordinal));

        cluster.Nodes[A].OnTimer(QuorumNode.HintReplayTimerTag, cluster.Hosts[A]);
        cluster.Deliver();
        Assert.Equal(0, cluster.Nodes[A].HintCount);
        Assert.DoesNotContain(cluster.Hosts[A].Durable.Keys, k => k.StartsWith("hint/", StringComparison.Ordinal));
        Assert.Equal([42L], cluster.Nodes[C].Store["k"].Values);
        Assert.Equal(1, cluster.Nodes[A].Stats.HintsDelivered);
    }

    [Fact]
    public void Timeout_without_quorum_answers_timeout_once()
    {
        var cluster = new TestCluster(3, new QuorumConfig { AntiEntropyIntervalUs = 0, HintedHandoff = false });
        cluster.Nodes[A].Receive(Client, new ClientRequest(7, Client, OperationKind.Write, "k", 1, Consistency.All), cluster.Hosts[A]);
        cluster.Deliver(down: C);
        Assert.Empty(cluster.Replies);
        long timeoutTag = cluster.Hosts[A].Timers.Single(t => t.Tag >> 56 == 1).Tag;
        cluster.Nodes[A].OnTimer(timeoutTag, cluster.Hosts[A]);
        cluster.Nodes[A].OnTimer(timeoutTag, cluster.Hosts[A]);
        cluster.Deliver();
        Assert.Equal(ReplyStatus.Timeout, Assert.Single(cluster.Replies).Status);
        Assert.Equal(0, cluster.Nodes[A].HintCount);
    }

    [Fact]
    public void Read_returns_the_newest_and_repairs_the_stale_replica()
    {
        var cluster = new TestCluster(3, new QuorumConfig { AntiEntropyIntervalUs = 0, HintedHandoff = false });
        cluster.Nodes[A].Receive(Client, new ClientRequest(1, Client, OperationKind.Write, "k", 1, Consistency.All), cluster.Hosts[A]);
        cluster.Deliver();
        cluster.Clock.NowUs += 1_000;
        cluster.Nodes[A].Receive(Client, new ClientRequest(2, Client, OperationKind.Write, "k", 2, Consistency.Two), cluster.Hosts[A]);
        cluster.Deliver(down: C);
        Assert.Equal([1L], cluster.Nodes[C].Store["k"].Values);

        cluster.Nodes[C].Receive(Client, new ClientRequest(3, Client, OperationKind.Read, "k", 0, Consistency.All), cluster.Hosts[C]);
        cluster.Deliver();
        Assert.Equal([2L], cluster.Replies[^1].Values);
        Assert.Equal([2L], cluster.Nodes[C].Store["k"].Values);
        Assert.Equal(1, cluster.Nodes[C].Stats.KeysRepairedByReadRepair);
    }

    [Fact]
    public void Impossible_consistency_is_refused_before_anything_is_sent()
    {
        var cluster = new TestCluster(3, new QuorumConfig { AntiEntropyIntervalUs = 0 });
        cluster.Nodes[A].Receive(Client, new ClientRequest(1, Client, OperationKind.Write, "k", 1, Consistency.Of(4)), cluster.Hosts[A]);
        cluster.Nodes[A].Receive(Client, new ClientRequest(2, Client, OperationKind.Increment, "k", 1, Consistency.One), cluster.Hosts[A]);
        Assert.All(cluster.Hosts[A].Sent, s => Assert.Equal(Client, s.To));
        cluster.Deliver();
        Assert.All(cluster.Replies, r => Assert.Equal(ReplyStatus.Unavailable, r.Status));
    }

    [Fact]
    public void Concurrent_dvv_writes_become_siblings_and_a_write_with_context_replaces_them()
    {
        var cluster = new TestCluster(3, new QuorumConfig { Versioning = VersionMode.DottedVersionVectors, AntiEntropyIntervalUs = 0 });
        cluster.Nodes[A].Receive(Client, new ClientRequest(1, Client, OperationKind.Write, "k", 10, Consistency.One), cluster.Hosts[A]);
        cluster.Nodes[B].Receive(Client, new ClientRequest(2, Client, OperationKind.Write, "k", 20, Consistency.One), cluster.Hosts[B]);
        cluster.Deliver();
        cluster.Nodes[C].Receive(Client, new ClientRequest(3, Client, OperationKind.Read, "k", 0, Consistency.All), cluster.Hosts[C]);
        cluster.Deliver();
        ClientReply read = cluster.Replies[^1];
        Assert.Equal([10L, 20L], read.Values.Order());

        cluster.Nodes[A].Receive(Client, new ClientRequest(4, Client, OperationKind.Write, "k", 30, Consistency.All, Context: read.Context), cluster.Hosts[A]);
        cluster.Deliver();
        Assert.All(cluster.Nodes.Values, n => Assert.Equal([30L], n.Store["k"].Values));
    }

    [Fact]
    public void Restart_recovers_the_store_and_the_hints()
    {
        var cluster = new TestCluster(3, new QuorumConfig { AntiEntropyIntervalUs = 0 });
        cluster.Nodes[A].Receive(Client, new ClientRequest(1, Client, OperationKind.Write, "k", 5, Consistency.Two), cluster.Hosts[A]);
        cluster.Deliver(down: C);
        cluster.Nodes[A].OnTimer(cluster.Hosts[A].Timers.Single(t => t.Tag >> 56 == 1).Tag, cluster.Hosts[A]);

        var reborn = new QuorumNode(A, cluster.Ring, new QuorumConfig { AntiEntropyIntervalUs = 0 }, cluster.Clock);
        reborn.Restart(cluster.Hosts[A].Durable.OrderBy(kv => kv.Key, StringComparer.Ordinal), new TestHost());
        Assert.Equal([5L], reborn.Store["k"].Values);
        Assert.Equal(1, reborn.HintCount);
    }

    [Fact]
    public void Anti_entropy_repairs_exactly_the_differing_ranges_and_converges()
    {
        var config = new QuorumConfig { AntiEntropyIntervalUs = 1_000_000, MerkleDepth = 6, ReadRepair = false, HintedHandoff = false };
        var ring = new HashRing([new(A, "eu"), new(B, "us")], 2);
        var clock = new ManualClock();
        var a = new QuorumNode(A, ring, config, clock);
        var b = new QuorumNode(B, ring, config, clock);
        var hostA = new TestHost();
        var hostB = new TestHost();
        long rpc = 0;
        StoredValue Cell(long value) => new LwwValue(new HlcTimestamp(1_000 + value, 0), A, value);
        for (int i = 0; i < 300; i++)
        {
            a.Receive(A, new ReplicaWrite(++rpc, $"k{i}", Cell(i)), hostA);
            b.Receive(A, new ReplicaWrite(++rpc, $"k{i}", Cell(i)), hostB);
        }

        // Diverge: B misses 5 newer writes, A misses 3 keys entirely.
        string[] newerOnA = ["k3", "k50", "k77", "k150", "k299"];
        foreach (string key in newerOnA)
        {
            a.Receive(A, new ReplicaWrite(++rpc, key, Cell(10_000 + int.Parse(key[1..], System.Globalization.CultureInfo.InvariantCulture))), hostA);
        }

        for (int i = 300; i < 303; i++)
        {
            b.Receive(A, new ReplicaWrite(++rpc, $"k{i}", Cell(i)), hostB);
        }

        MerkleTree treeA = a.BuildTreeSharedWith(B);
        MerkleTree treeB = b.BuildTreeSharedWith(A);
        int[] bruteForce = [.. Enumerable.Range(0, treeA.LeafCount).Where(leaf => treeA.Leaf(leaf) != treeB.Leaf(leaf))];
        string[] differingKeys = [.. newerOnA, "k300", "k301", "k302"];
        Assert.Equal(differingKeys.Select(k => treeA.LeafOf(HashRing.TokenOf(k))).Distinct().Order(), bruteForce);

        hostA.Drain();
        hostB.Drain();
        a.OnTimer(QuorumNode.AntiEntropyTimerTag, hostA);
        var exchange = (MerkleExchange)Assert.Single(hostA.Drain()).Message;
        b.Receive(A, exchange, hostB);
        var difference = (MerkleDifference)Assert.Single(hostB.Drain()).Message;
        Assert.Equal(bruteForce, difference.Ranges.Select(r => r.Leaf));
        // B ships exactly its keys in the differing leaves: no key outside them.
        Assert.All(difference.Entries, e => Assert.Contains(treeA.LeafOf(HashRing.TokenOf(e.Key)), bruteForce));
        Assert.Equal(b.Store.Keys.Count(k => bruteForce.Contains(treeA.LeafOf(HashRing.TokenOf(k)))), difference.Entries.Length);

        a.Receive(B, difference, hostA);
        var repair = (RepairEntries)Assert.Single(hostA.Drain()).Message;
        b.Receive(A, repair, hostB);

        Assert.Equal(303, a.Store.Count);
        Assert.Equal(a.Store.OrderBy(kv => kv.Key, StringComparer.Ordinal), b.Store.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(a.BuildTreeSharedWith(B).RootHash, b.BuildTreeSharedWith(A).RootHash);
        Assert.Equal(3, a.Stats.KeysRepairedByAntiEntropy);
        Assert.Equal(5, b.Stats.KeysRepairedByAntiEntropy);

        // A second round finds nothing to do.
        a.OnTimer(QuorumNode.AntiEntropyTimerTag, hostA);
        b.Receive(A, (MerkleExchange)Assert.Single(hostA.Drain()).Message, hostB);
        Assert.Empty(hostB.Drain());
    }
}
