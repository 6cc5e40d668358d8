using System.Globalization;
using System.Runtime.CompilerServices;
using Concord.Core;
using Concord.Replication.Raft;

namespace Concord.Replication.Tests.Raft;

/// <summary>
/// Scripted scenarios whose every delivered message is compared with a text file in testdata/, as
/// etcd-raft does: a protocol change shows up as a readable diff. Set CONCORD_UPDATE_TRACES=1 to
/// rewrite the files, then read the diff before committing it.
/// </summary>
public sealed class RaftTraceTests
{
    [Fact]
    public void Elect_replicate_partition_the_leader_and_heal()
    {
        var cluster = new RaftCluster(3, seed: 3);
        var script = new TraceScript(cluster);
        NodeId leader = default;
        script.Step("tick until elected", () => leader = cluster.ElectLeader());
        script.Step("propose a, b", () =>
        {
            cluster.Propose(leader, "a");
            cluster.Propose(leader, "b");
        });
        script.Step("isolate the leader and propose c there", () =>
        {
            cluster.Isolate(leader);
            cluster.Propose(leader, "c");
        });
        NodeId fresh = default;
        script.Step("tick until the majority side elects", () => fresh = TickUntilAnotherLeads(cluster, leader));
        script.Step("propose d on the new leader", () => cluster.Propose(fresh, "d"));
        script.Step("heal and tick until logs agree", () =>
        {
            cluster.Heal();
            cluster.TickAll(3);
        });

        Compare("partition_leader.txt", script.Lines);
    }

    [Fact]
    public void A_lagging_follower_catches_up_from_a_snapshot_and_drops_its_conflicting_tail()
    {
        var cluster = new RaftCluster(3, seed: 3);
        var script = new TraceScript(cluster);
        NodeId leader = ElectAndProposeA(cluster, script);
        script.Step("isolate the leader and propose x there (it will never commit)", () =>
        {
            cluster.Isolate(leader);
            cluster.Propose(leader, "x");
        });
        NodeId fresh = default;
        script.Step("the majority side elects and commits b, c", () =>
        {
            fresh = TickUntilAnotherLeads(cluster, leader);
            cluster.Propose(fresh, "b");
            cluster.Propose(fresh, "c");
        });
        script.Step("the new leader compacts its log into a snapshot", () => cluster.Compact(fresh));
        script.Step("heal: the old leader gets the snapshot instead of entries", () =>
        {
            cluster.Heal();
            cluster.TickAll(3);
        });

        Compare("snapshot_catch_up.txt", script.Lines);
        Assert.Equal(cluster.State[fresh], cluster.State[leader]);
        Assert.Equal(["a", "b", "c"], cluster.State[leader]);
    }

    [Fact]
    public void Transfer_leadership_with_TimeoutNow()
    {
        var cluster = new RaftCluster(3, seed: 3);
        var script = new TraceScript(cluster);
        NodeId leader = ElectAndProposeA(cluster, script);
        NodeId target = cluster.Voters.First(v => v != leader);
        script.Step("transfer leadership to a caught-up follower", () =>
        {
            Assert.True(cluster.Nodes[leader].TransferLeadership(target));
            cluster.Deliver(leader);
        });
        script.Step("the new leader replicates b", () => cluster.Propose(target, "b"));

        Compare("transfer_leader.txt", script.Lines);
        Assert.Equal(RaftRole.Leader, cluster.Nodes[target].Role);
    }

    private static NodeId ElectAndProposeA(RaftCluster cluster, TraceScript script)
    {
        NodeId leader = default;
        script.Step("tick until elected, propose a", () =>
        {
            leader = cluster.ElectLeader();
            cluster.Propose(leader, "a");
        });
        return leader;
    }

    private static NodeId TickUntilAnotherLeads(RaftCluster cluster, NodeId old)
    {
        for (int i = 0; i < 100 && cluster.Voters.All(v => v == old || cluster.Nodes[v].Role != RaftRole.Leader); i++)
        {
            cluster.TickAll();
        }

        return cluster.Voters.First(v => v != old && cluster.Nodes[v].Role == RaftRole.Leader);
    }

    /// <summary>Each step: a title line, every message delivered during it, then every node's state.</summary>
    private sealed class TraceScript(RaftCluster cluster)
    {
        public List<string> Lines { get; } = [];

        public void Step(string title, Action action)
        {
            int from = cluster.Trace.Count;
            action();
            Lines.Add("> " + title);
            Lines.AddRange(cluster.Trace.Skip(from));
            Lines.Add(State(cluster));
        }
    }

    private static string State(RaftCluster cluster) => "= " + string.Join(
        " | ",
        cluster.Voters.Select(v =>
        {
            RaftNode n = cluster.Nodes[v];
            string snapshot = n.SnapshotIndex > 0 ? string.Create(CultureInfo.InvariantCulture, $" snapshot={n.SnapshotIndex}@{n.TermAt(n.SnapshotIndex)}") : "";
            return string.Create(CultureInfo.InvariantCulture, $"{v} {n.Role} term={n.Term} commit={n.Commit}{snapshot} log=[{string.Join(",", n.Log)}]");
        }));

    private static void Compare(string name, List<string> actual, [CallerFilePath] string here = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(here)!, "testdata", name);
        string text = string.Join("\n", actual) + "\n";
        if (Environment.GetEnvironmentVariable("CONCORD_UPDATE_TRACES") == "1")
        {
            File.WriteAllText(path, text);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run with CONCORD_UPDATE_TRACES=1 to create it.");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), text);
    }
}
