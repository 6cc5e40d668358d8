using Concord.Core;
using Concord.Replication.Quorum;

namespace Concord.Replication.Tests.Quorum;

/// <summary>A manual clock: tests move it, nothing else does.</summary>
internal sealed class ManualClock : TimeProvider
{
    public long NowUs { get; set; } = 1_000_000;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(NowUs * 10);

    public override long GetTimestamp() => NowUs;

    public override long TimestampFrequency => 1_000_000;
}

/// <summary>Records a node's effects so a test can deliver its messages by hand.</summary>
internal sealed class TestHost : IQuorumHost
{
    public List<(NodeId To, QuorumMessage Message)> Sent { get; } = [];

    public List<(long DelayUs, long Tag)> Timers { get; } = [];

    public Dictionary<string, object> Durable { get; } = new(StringComparer.Ordinal);

    public void Send(NodeId to, QuorumMessage message) => Sent.Add((to, message));

    public void SetTimer(long delayUs, long tag) => Timers.Add((delayUs, tag));

    public void WriteDurable(string key, object value) => Durable[key] = value;

    public void DeleteDurable(string key) => Durable.Remove(key);

    public List<(NodeId To, QuorumMessage Message)> Drain()
    {
        var sent = Sent.ToList();
        Sent.Clear();
        return sent;
    }
}

/// <summary>
/// Three nodes (n0, n1 in eu; n2 in us) on a manual clock, and a network a test delivers by hand:
/// every queued message, round after round, until none is left.
/// </summary>
internal sealed class TestCluster
{
    public static readonly NodeId A = new(0);
    public static readonly NodeId B = new(1);
    public static readonly NodeId C = new(2);
    public static readonly NodeId Client = new(99);

    public TestCluster(int n, QuorumConfig config)
    {
        Ring = new HashRing([new(A, "eu"), new(B, "eu"), new(C, "us")], n);
        foreach (NodeId id in new[] { A, B, C })
        {
            Nodes[id] = new QuorumNode(id, Ring, config, Clock);
            Hosts[id] = new TestHost();
            Nodes[id].Start(Hosts[id]);
        }
    }

    public ManualClock Clock { get; } = new();

    public HashRing Ring { get; }

    public Dictionary<NodeId, QuorumNode> Nodes { get; } = [];

    public Dictionary<NodeId, TestHost> Hosts { get; } = [];

    public List<ClientReply> Replies { get; } = [];

    /// <summary>Delivers every queued message (except to or from <paramref name="down"/>) until the network is empty.</summary>
    public void Deliver(params NodeId[] down) => Deliver((from, to, _) => down.Contains(to) || down.Contains(from));

    /// <summary>Delivers every queued message for which <paramref name="drop"/> is false (it may also act, e.g. inject a race) until the network is empty.</summary>
    public void Deliver(Func<NodeId, NodeId, QuorumMessage, bool> drop)
    {
        for (int round = 0; round < 100; round++)
        {
            var batch = Hosts.SelectMany(h => h.Value.Drain().Select(m => (From: h.Key, m.To, m.Message))).ToList();
            if (batch.Count == 0)
            {
                return;
            }

            foreach ((NodeId from, NodeId to, QuorumMessage message) in batch)
            {
                if (to == Client)
                {
                    Replies.Add((ClientReply)message);
                }
                else if (!drop(from, to, message))
                {
                    Nodes[to].Receive(from, message, Hosts[to]);
                }
            }
        }

        throw new InvalidOperationException("The network did not quiesce.");
    }
}
