using System.Diagnostics;
using Concord.Experiments.Quorum;
using Concord.Experiments.Raft;

namespace Concord.Cli.Bench;

/// <summary>
/// <c>concord bench raft</c>: how fast the simulator runs a Raft KV group (committed operations per
/// second of wall time), and the simulated latency of writes and reads with the leader next to the
/// clients or a region away (<see cref="RaftKvRunOptions.Placement"/>), with reads through ReadIndex
/// and through the lease, each measured in the same run.
/// </summary>
internal static class RaftBench
{
    const int ThroughputOperations = 20_000;
    const int LatencyOperations = 4_000;

    public static Dictionary<string, object> Run()
    {
        var throughput = RaftKvRunOptions.Throughput(seed: 1, ThroughputOperations);
        RaftKvRun.Execute(throughput with { Workload = throughput.Workload with { OperationCount = 2_000 } }); // warm-up: JIT
        var writeRates = new List<double>();
        var operationRates = new List<double>();
        long committed = 0;
        long answered = 0;
        for (int i = 0; i < 3; i++)
        {
            long start = Stopwatch.GetTimestamp();
            RaftKvRunResult run = RaftKvRun.Execute(throughput);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            // A CAS that did not match was committed too: its entry is in the log.
            committed = run.Write.Count + run.Cas.Count;
            answered = committed + run.Read.Count;
            writeRates.Add(committed / seconds);
            operationRates.Add(answered / seconds);
        }

        return new Dictionary<string, object>
        {
            ["throughput_operations"] = ThroughputOperations,
            ["throughput_writes_committed"] = committed,
            ["throughput_operations_answered"] = answered,
            ["committed_writes_per_wall_second_median_of_3"] = Math.Round(Measure.Median(writeRates)),
            ["answered_operations_per_wall_second_median_of_3"] = Math.Round(Measure.Median(operationRates)),
            ["leader_and_clients_in_eu"] = Latencies("eu", "eu"),
            ["leader_in_eu_clients_in_us"] = Latencies("eu", "us"),
        };
    }

    /// <summary>Simulated latencies (ms) of one placement, once with ReadIndex reads and once with lease reads.</summary>
    static Dictionary<string, object> Latencies(string leaderRegion, string clientRegion)
    {
        RaftKvRunOptions placement = RaftKvRunOptions.Placement(seed: 1, LatencyOperations, leaderRegion, clientRegion);
        RaftKvRunResult readIndex = RaftKvRun.Execute(placement);
        RaftKvRunResult lease = RaftKvRun.Execute(placement with { LeaseClockDriftPpmMax = 500 });
        return new Dictionary<string, object>
        {
            ["write_ms"] = Percentiles(readIndex.Write),
            ["cas_ms"] = Percentiles(readIndex.Cas),
            ["read_index_read_ms"] = Percentiles(readIndex.Read),
            ["lease_read_ms"] = Percentiles(lease.Read),
            ["lease_reads_share"] = Math.Round(lease.ReadsServedByLease / (double)Math.Max(1, lease.Read.Count), 3),
        };
    }

    static Dictionary<string, object> Percentiles(LatencyPercentiles latencies) => new()
    {
        ["count"] = latencies.Count,
        ["p50"] = latencies.P50Ms,
        ["p95"] = latencies.P95Ms,
        ["p99"] = latencies.P99Ms,
    };
}
