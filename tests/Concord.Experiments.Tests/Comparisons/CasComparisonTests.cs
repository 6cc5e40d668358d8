using Concord.Experiments.Comparisons;

namespace Concord.Experiments.Tests.Comparisons;

/// <summary>Quorum CAS, Paxos LWT and Raft CAS on one workload: who is linearizable, and what each round trip costs.</summary>
public sealed class CasComparisonTests(ITestOutputHelper output)
{
    [Fact]
    public void Lwt_and_Raft_are_linearizable_quorum_CAS_is_not_and_each_round_trip_costs_latency()
    {
        CasComparisonResult result = CasComparison.Run(new CasComparisonOptions { OperationCount = 400, KeyCount = 1 }, TimeProvider.System);
        foreach (CasProtocolResult row in result.Protocols)
        {
            output.WriteLine(row.ToString());
        }

        CasProtocolResult Row(string name) => result.Protocols.Single(r => r.Protocol == name);
        CasProtocolResult quorum = Row(CasComparison.QuorumCas), v1 = Row(CasComparison.LwtPaxosV1), v2 = Row(CasComparison.LwtReadInPrepare), raft = Row(CasComparison.RaftCas);
        Assert.Equal("not-linearizable", quorum.Linearizability);
        Assert.Equal("linearizable", v1.Linearizability);
        Assert.Equal("linearizable", v2.Linearizability);
        Assert.Equal("linearizable", raft.Linearizability);
        Assert.True(v1.RoundTripsPerOp > v2.RoundTripsPerOp && v2.RoundTripsPerOp > quorum.RoundTripsPerOp - 0.5,
            $"round trips: v1 {v1.RoundTripsPerOp}, read-in-prepare {v2.RoundTripsPerOp}, quorum {quorum.RoundTripsPerOp}");
        Assert.True(v1.Cas.P50Ms > v2.Cas.P50Ms && v2.Cas.P50Ms > quorum.Cas.P50Ms,
            $"CAS p50: v1 {v1.Cas.P50Ms} ms, read-in-prepare {v2.Cas.P50Ms} ms, quorum {quorum.Cas.P50Ms} ms");
    }

    [Fact]
    public void Options_are_validated_up_front()
    {
        var error = Assert.Throws<ArgumentException>(() => CasComparison.Run(new CasComparisonOptions { ServersPerRegion = 2 }, TimeProvider.System));
        Assert.Contains("3 to 64 servers", error.Message, StringComparison.Ordinal);
    }
}
