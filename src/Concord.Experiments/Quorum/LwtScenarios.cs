using Concord.Replication.Quorum;
using Concord.Simulation.Faults;
using Concord.Simulation.Network;

namespace Concord.Experiments.Quorum;

/// <summary>
/// Runs of lightweight transactions (Paxos CAS and SERIAL reads) on the simulated quorum store.
/// They are ordinary <see cref="QuorumRun"/>s whose clients send only LWT operations.
/// </summary>
public static class LwtScenarios
{
    /// <summary>
    /// Short, contended runs under heavy faults for correctness sweeps: 2 regions × 3 servers, N = 3,
    /// 4 clients on 3 keys; node isolations, one-way and region partitions, up to two crashed
    /// servers, pauses, clock jumps, ±100 ms initial skew (twice the HLC bound) and ±500 ppm drift,
    /// 2% message loss and 1% duplicates. Odd seeds read in the promise (three round trips), even
    /// seeds use Paxos v1's separate read (four).
    /// </summary>
    public static QuorumRunOptions Chaos(ulong seed) => new()
    {
        Seed = seed,
        ClientsPerRegion = 2,
        Protocol = new QuorumConfig
        {
            Lwt = new LwtConfig { ReadInPrepare = seed % 2 == 1, RequestTimeoutUs = 800_000 },
        },
        Workload = new QuorumWorkloadOptions
        {
            LightweightTransactions = true,
            OperationCount = 150,
            KeyCount = 3,
            ReadFraction = 0.3,
            CasFraction = 0.7,
            ThinkTimeUsMax = 20_000,
            ClientTimeoutUs = 1_000_000,
        },
        Network = NetworkConfig.Default.WithAllLinks(p => p with { LossProbability = 0.02, DuplicateProbability = 0.01 }),
        RandomFaults = RandomFaultConfig.Heavy with { HorizonUs = 4_000_000, RegionPartitionsPerSecond = 0.3, ClockOffsetUsMax = 100_000 },
        QuiesceUs = 0,
        DeadlineUs = 20_000_000,
    };
}
