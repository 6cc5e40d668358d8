using Concord.Experiments.Comparisons;

namespace Concord.Cli.Bench;

/// <summary>
/// <c>concord bench cas</c>: one compare-and-set workload through quorum CAS, the Paxos lightweight
/// transaction (v1: four round trips; read in the promise: three) and Raft CAS, in one region and
/// across three. Latencies are simulated; ops per second are of this machine's wall time.
/// </summary>
internal static class CasBench
{
    public static Dictionary<string, object> Run()
    {
        var oneRegion = new CasComparisonOptions();
        // One server and one client per region, 40 ms one way between regions: every majority crosses the WAN.
        var threeRegions = oneRegion with { Regions = 3, ServersPerRegion = 1, ClientsPerRegion = 1 };
        CasComparison.Run(oneRegion with { OperationCount = 200 }, TimeProvider.System); // warm-up: JIT

        return new Dictionary<string, object>
        {
            ["workload"] = new Dictionary<string, object>
            {
                ["seed"] = oneRegion.Seed,
                ["operations"] = oneRegion.OperationCount,
                ["keys"] = oneRegion.KeyCount,
                ["cas_fraction"] = oneRegion.CasFraction,
                ["replicas"] = 3,
                ["faults"] = "none",
            },
            ["one_region_3_servers_3_clients"] = Rows(CasComparison.Run(oneRegion, TimeProvider.System)),
            ["three_regions_1_server_1_client_each"] = Rows(CasComparison.Run(threeRegions, TimeProvider.System)),
        };
    }

    static Dictionary<string, object> Rows(CasComparisonResult result) => result.Protocols.ToDictionary(
        row => row.Protocol,
        row => (object)new Dictionary<string, object>
        {
            ["cas_ms"] = new Dictionary<string, object> { ["p50"] = row.Cas.P50Ms, ["p95"] = row.Cas.P95Ms, ["p99"] = row.Cas.P99Ms },
            ["read_ms"] = new Dictionary<string, object> { ["p50"] = row.Read.P50Ms, ["p95"] = row.Read.P95Ms, ["p99"] = row.Read.P99Ms },
            ["round_trips_per_op"] = row.RoundTripsPerOp,
            ["ops_per_wall_second"] = row.OpsPerWallSecond,
            ["cas_succeeded"] = row.CasSucceeded,
            ["cas_compare_failed"] = row.CasCompareFailed,
            ["indeterminate"] = row.Indeterminate,
            ["linearizability"] = row.Linearizability,
        });
}
