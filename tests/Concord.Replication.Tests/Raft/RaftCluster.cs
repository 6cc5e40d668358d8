using Concord.Core;
using Concord.Core.Randomness;
using Concord.Replication.Raft;
using Concord.Replication.Tests.Quorum;

namespace Concord.Replication.Tests.Raft;

/// <summary>
/// A synchronous in-memory host for a few RaftNodes: it drains every Ready the way the contract says
/// (persist, send, apply, advance), delivers messages FIFO unless a link is cut, and records what
/// each node persisted and applied so tests can check durability and agreement. Its state machine is
/// the list of applied commands (<see cref="State"/>); a snapshot is that list joined by commas.
/// One manual clock, advanced by <see cref="TickUs"/> per <see cref="TickAll"/>, serves lease reads.
/// </summary>
internal sealed class RaftCluster
{
    private readonly Queue<RaftMessage> _network = new();
    private readonly HashSet<(NodeId, NodeId)> _cut = [];
    private readonly Dictionary<NodeId, SeededRandom> _randoms = [];

    public const long TickUs = 10_000;

    public RaftCluster(int size, ulong seed = 1, Func<RaftConfig, RaftConfig>? configure = null)
    {
        Voters = [.. Enumerable.Range(0, size).Select(i => new NodeId((uint)i))];
        Config = new RaftConfig { Voters = Voters };
        if (configure is not null)
        {
            Config = configure(Config);
        }

        var root = new SeededRandom(seed);
        foreach (NodeId id in Voters)
        {
            _randoms[id] = root.Derive(id.Value);
            Nodes[id] = new RaftNode(id, Config, _randoms[id], clock: Clock);
            Durable[id] = (HardState.Empty, []);
            Snapshots[id] = null;
            Applied[id] = [];
            State[id] = [];
        }
    }

    public IReadOnlyList<NodeId> Voters { get; }

    public RaftConfig Config { get; }

    public Dictionary<NodeId, RaftNode> Nodes { get; } = [];

    public Dictionary<NodeId, (HardState Hard, List<LogEntry> Log)> Durable { get; } = [];

    public Dictionary<NodeId, List<LogEntry>> Applied { get; } = [];

    /// <summary>Each node's durable snapshot (null: none yet).</summary>
    public Dictionary<NodeId, Snapshot?> Snapshots { get; } = [];

    /// <summary>Each node's state machine: the commands applied, from its snapshot on.</summary>
    public Dictionary<NodeId, List<string>> State { get; } = [];

    public ManualClock Clock { get; } = new();

    public List<ReadState> Reads { get; } = [];

    public List<string> Trace { get; } = [];

    public HashSet<NodeId> Down { get; } = [];

    public void Cut(NodeId a, NodeId b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void Isolate(NodeId node)
    {
        foreach (NodeId other in Voters)
        {
            if (other != node)
            {
                Cut(node, other);
            }
        }
    }

    public void Heal() => _cut.Clear();

    public void Crash(NodeId node)
    {
        Down.Add(node);
        Trace.Add($"crash {node}");
    }

    public void Restart(NodeId node)
    {
        Down.Remove(node);
        (HardState hard, List<LogEntry> log) = Durable[node];
        Snapshot? snapshot = Snapshots[node];
        Nodes[node] = new RaftNode(node, Config, _randoms[node].Derive("restart"), hard, log, snapshot, Clock);
        Applied[node] = [];
        State[node] = Restore(snapshot);
        Trace.Add($"restart {node}");
    }

    public NodeId? Leader => Voters.Where(v => !Down.Contains(v) && Nodes[v].Role == RaftRole.Leader)
        .OrderByDescending(v => Nodes[v].Term).Select(v => (NodeId?)v).FirstOrDefault();

    /// <summary>Ticks every live node once, then delivers until the network is quiet.</summary>
    public void TickAll(int times = 1)
    {
        for (int t = 0; t < times; t++)
        {
            Clock.NowUs += TickUs;
            foreach (NodeId id in Voters)
            {
                if (!Down.Contains(id))
                {
                    Nodes[id].Tick();
                    Drain(id);
                }
            }

            Deliver();
        }
    }

    /// <summary>Ticks until some node leads or <paramref name="ticksMax"/> passes.</summary>
    public NodeId ElectLeader(int ticksMax = 200)
    {
        for (int i = 0; i < ticksMax; i++)
        {
            TickAll();
            if (Leader is { } leader)
            {
                return leader;
            }
        }

        throw new InvalidOperationException("no leader elected");
    }

    public bool Propose(NodeId node, string command)
    {
        bool accepted = Nodes[node].Propose(command);
        Drain(node);
        Deliver();
        return accepted;
    }

    /// <summary>Delivers what <paramref name="node"/> produced after a direct call on it.</summary>
    public void Deliver(NodeId node)
    {
        Drain(node);
        Deliver();
    }

    public bool ReadIndex(NodeId node, long requestId)
    {
        bool accepted = Nodes[node].ReadIndex(requestId);
        Drain(node);
        Deliver();
        return accepted;
    }

    /// <summary>Has <paramref name="node"/> snapshot its state machine at its applied index and compact its log.</summary>
    public Snapshot Compact(NodeId node)
    {
        Snapshot snapshot = Nodes[node].Compact(Nodes[node].Commit, string.Join(",", State[node]));
        Snapshots[node] = snapshot;
        Durable[node].Log.RemoveAll(e => e.Index <= snapshot.Index);
        Trace.Add($"compact {node} to {snapshot.Index}");
        return snapshot;
    }

    private static List<string> Restore(Snapshot? snapshot) =>
        snapshot is null || snapshot.Data.Length == 0 ? [] : [.. snapshot.Data.Split(',')];

    public void Deliver()
    {
        int delivered = 0;
        while (_network.TryDequeue(out RaftMessage? m))
        {
            Assert.True(++delivered < 100_000, "message storm");
            if (Down.Contains(m.To) || _cut.Contains((m.From, m.To)))
            {
                continue;
            }

            Trace.Add(m.ToString());
            Nodes[m.To].Step(m);
            Drain(m.To);
        }
    }

    private void Drain(NodeId id)
    {
        RaftNode node = Nodes[id];
        while (node.HasReady)
        {
            Ready ready = node.TakeReady();
            (HardState hard, List<LogEntry> log) = Durable[id];
            if (ready.Snapshot is { } snapshot)
            {
                Snapshots[id] = snapshot;
                log.Clear();
                State[id] = Restore(snapshot);
            }

            if (ready.HardState is { } hs)
            {
                hard = hs;
            }

            if (!ready.Entries.IsEmpty)
            {
                log.RemoveAll(e => e.Index >= ready.Entries[0].Index);
                log.AddRange(ready.Entries);
            }

            Durable[id] = (hard, log);
            foreach (RaftMessage m in ready.Messages)
            {
                _network.Enqueue(m);
            }

            Applied[id].AddRange(ready.CommittedEntries);
            State[id].AddRange(ready.CommittedEntries.Where(e => e.Command is not null).Select(e => e.Command!));
            Reads.AddRange(ready.ReadStates);
            node.Advance();
        }
    }
}
