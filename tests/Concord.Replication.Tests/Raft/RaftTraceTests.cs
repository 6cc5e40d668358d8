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
        var script = new List<string>();
        void Step(string title, Action action)
        {
            int from = cluster.Trace.Count;
            action();
            script.Add("> " + title);
            script.AddRange(cluster.Trace.Skip(from));
            script.Add(State(cluster));
        }

        NodeId leader = default;
        Step("tick until elected", () => leader = cluster.ElectLeader());
        Step("propose a, b", () =>
        {
            cluster.Propose(leader, "a");
            cluster.Propose(leader, "b");
        });
        Step("isolate the leader and propose c there", () =>
        {
            cluster.Isolate(leader);
            cluster.Propose(leader, "c");
        });
        NodeId fresh = default;
        Step("tick until the majority side elects", () =>
        {
            for (int i = 0; i < 100 && cluster.Voters.All(v => v == leader || cluster.Nodes[v].Role != RaftRole.Leader); i++)
            {
                cluster.TickAll();
            }

            fresh = cluster.Voters.First(v => v != leader && cluster.Nodes[v].Role == RaftRole.Leader);
        });
        Step("propose d on the new leader", () => cluster.Propose(fresh, "d"));
        Step("heal and tick until logs agree", () =>
        {
            cluster.Heal();
            cluster.TickAll(3);
        });

        Compare("partition_leader.txt", script);
    }

    private static string State(RaftCluster cluster) => "= " + string.Join(
        " | ",
        cluster.Voters.Select(v =>
        {
            RaftNode n = cluster.Nodes[v];
            return string.Create(CultureInfo.InvariantCulture, $"{v} {n.Role} term={n.Term} commit={n.Commit} log=[{string.Join(",", n.Log)}]");
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
