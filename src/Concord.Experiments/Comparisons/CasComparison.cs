using System.Globalization;
using Concord.Checkers.Histories;
using Concord.Checkers.Linearizability;
using Concord.Experiments.Quorum;
using Concord.Experiments.Raft;
using Concord.Replication.Quorum;
using Concord.Simulation.History;
using Concord.Simulation.Tracing;

namespace Concord.Experiments.Comparisons;

/// <summary>
/// One compare-and-set workload for every protocol: the same seed, servers, clients, keys and mix of
/// CAS and reads. Fault-free, so the numbers are the protocols' own costs; contention comes from
/// several clients on few keys.
/// </summary>
public sealed record CasComparisonOptions
{
    public ulong Seed { get; init; } = 1;

    public int Regions { get; init; } = 1;

    /// <summary>Regions × this must be at least 3: every protocol keeps 3 copies of a key.</summary>
    public int ServersPerRegion { get; init; } = 3;

    public int ClientsPerRegion { get; init; } = 3;

    public int OperationCount { get; init; } = 1_000;

    public int KeyCount { get; init; } = 3;

    /// <summary>Share of compare-and-sets; the rest are reads (quorum, SERIAL, or ReadIndex).</summary>
    public double CasFraction { get; init; } = 0.7;

    public long ThinkTimeUsMax { get; init; } = 2_000;

    public long ClientTimeoutUs { get; init; } = 2_000_000;

    /// <summary>Deterministic budget of each linearizability check; beyond it the verdict is "unknown".</summary>
    public long LinearizabilityStepsMax { get; init; } = 5_000_000;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Regions < 1 || ServersPerRegion < 1 || Regions * ServersPerRegion is < 3 or > 64 || ClientsPerRegion is < 1 or > 1_000)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"Need 3 to 64 servers in total and 1 to 1000 clients per region; got {Regions} regions × {ServersPerRegion} servers, {ClientsPerRegion} clients."));
        }

        if (OperationCount is < 1 or > 1_000_000 || KeyCount is < 1 or > 1_000)
        {
            problems.Add("OperationCount must be within [1, 1000000] and KeyCount within [1, 1000].");
        }

        if (!(CasFraction is > 0 and <= 1))
        {
            problems.Add("CasFraction must be within (0, 1].");
        }

        if (ThinkTimeUsMax is < 0 or > 60_000_000 || ClientTimeoutUs is < 1 or > 60_000_000 || LinearizabilityStepsMax < 0)
        {
            problems.Add("ThinkTimeUsMax and ClientTimeoutUs must be within [0, 60 s] (timeout ≥ 1 µs); LinearizabilityStepsMax ≥ 0.");
        }

        return problems;
    }
}

/// <summary>
/// One protocol's run. Latencies are simulated ms of answered operations (a CAS that did not match
/// counts as answered; timeouts do not). <see cref="RoundTripsPerOp"/> counts sequential
/// request/response exchanges per operation, the client's own included (README of this folder).
/// </summary>
public sealed record CasProtocolResult(
    string Protocol,
    int Operations,
    int CasSucceeded,
    int CasCompareFailed,
    int Indeterminate,
    LatencyPercentiles Cas,
    LatencyPercentiles Read,
    double RoundTripsPerOp,
    double OpsPerWallSecond,
    string Linearizability,
    long SimulatedUs);

public sealed record CasComparisonResult(CasComparisonOptions Options, IReadOnlyList<CasProtocolResult> Protocols);

/// <summary>
/// Quorum CAS (read at QUORUM, compare, write at QUORUM), the Paxos lightweight transaction in its
/// v1 (four round trips) and read-in-promise (three) forms, and Raft CAS, on one workload.
/// </summary>
public static class CasComparison
{
    public const string QuorumCas = "quorum-cas";
    public const string LwtPaxosV1 = "lwt-paxos-v1";
    public const string LwtReadInPrepare = "lwt-read-in-prepare";
    public const string RaftCas = "raft-cas";

    /// <param name="wallClock">Times each run for ops per wall second (TimeProvider.System in a host).</param>
    public static CasComparisonResult Run(CasComparisonOptions options, TimeProvider wallClock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(wallClock);
        IReadOnlyList<string> problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid CAS comparison options: " + string.Join(" ", problems), nameof(options));
        }

        return new CasComparisonResult(options,
        [
            RunQuorum(options, QuorumCas, lwt: null, wallClock),
            RunQuorum(options, LwtPaxosV1, new LwtConfig { ReadInPrepare = false }, wallClock),
            RunQuorum(options, LwtReadInPrepare, new LwtConfig { ReadInPrepare = true }, wallClock),
            RunRaft(options, wallClock),
        ]);
    }

    /// <summary>The quorum-store run behind a row (<paramref name="lwt"/> null: plain quorum CAS), for callers that want the raw history.</summary>
    public static QuorumRunOptions QuorumOptions(CasComparisonOptions options, LwtConfig? lwt)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new QuorumRunOptions
        {
            Seed = options.Seed,
            Regions = options.Regions,
            ServersPerRegion = options.ServersPerRegion,
            ClientsPerRegion = options.ClientsPerRegion,
            ReplicationFactor = 3,
            Protocol = new QuorumConfig { Lwt = lwt ?? new LwtConfig() },
            Workload = new QuorumWorkloadOptions
            {
                LightweightTransactions = lwt is not null,
                OperationCount = options.OperationCount,
                KeyCount = options.KeyCount,
                ReadFraction = 1 - options.CasFraction,
                CasFraction = options.CasFraction,
                ReadConsistency = Consistency.Quorum,
                WriteConsistency = Consistency.Quorum,
                ThinkTimeUsMax = options.ThinkTimeUsMax,
                ClientTimeoutUs = options.ClientTimeoutUs,
            },
            QuiesceUs = 0,
        };
    }

    /// <summary>The Raft KV run behind the Raft row: every server a voter of one group.</summary>
    public static RaftKvRunOptions RaftOptions(CasComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RaftKvRunOptions
        {
            Seed = options.Seed,
            Regions = options.Regions,
            ServersPerRegion = options.ServersPerRegion,
            ClientsPerRegion = options.ClientsPerRegion,
            Workload = new RaftKvWorkloadOptions
            {
                OperationCount = options.OperationCount,
                KeyCount = options.KeyCount,
                ReadFraction = 1 - options.CasFraction,
                CasFraction = options.CasFraction,
                ThinkTimeUsMax = options.ThinkTimeUsMax,
                ClientTimeoutUs = options.ClientTimeoutUs,
            },
            DeadlineUs = 3_600_000_000,
        };
    }

    private static CasProtocolResult RunQuorum(CasComparisonOptions options, string protocol, LwtConfig? lwt, TimeProvider wallClock)
    {
        long start = wallClock.GetTimestamp();
        QuorumRunResult run = QuorumRun.Execute(QuorumOptions(options, lwt));
        TimeSpan elapsed = wallClock.GetElapsedTime(start);

        Outcomes outcomes = Outcomes.Of(
            run.Entries,
            op => op.Kind is OperationKind.CompareAndSet or OperationKind.PaxosCompareAndSet,
            result => result?.Status == ReplyStatus.CompareFailed);
        // Quorum CAS: a read phase, then a write phase only when the compare matched.
        int quorumRoundTrips = run.Entries.Count + outcomes.CasSucceeded;
        int operations = run.Entries.Count;
        // The client's own request, plus the coordinator's phases with the replicas.
        double roundTrips = lwt is null
            ? 1 + ((double)quorumRoundTrips / Math.Max(1, operations))
            : 1 + ((double)run.ServerStats.LwtRoundTrips / Math.Max(1, run.ServerStats.LwtRequests));
        return Row(protocol, options, run.History, outcomes, roundTrips, elapsed, run.SimulatedUs);
    }

    private static CasProtocolResult RunRaft(CasComparisonOptions options, TimeProvider wallClock)
    {
        // The trace's fingerprint hook sees every message the simulator handles; without faults each
        // client request is delivered once, so counting them counts attempts (first tries and the
        // retries after NotLeader redirects). Returning 0 keeps the trace hash as without a fingerprint.
        long attempts = 0;
        var trace = new TraceOptions<RaftKvMessage>
        {
            Fingerprint = message =>
            {
                attempts += message is KvRequest ? 1 : 0;
                return 0;
            },
        };
        long start = wallClock.GetTimestamp();
        RaftKvRunResult run = RaftKvRun.Execute(RaftOptions(options) with { Trace = trace });
        TimeSpan elapsed = wallClock.GetElapsedTime(start);

        Outcomes outcomes = Outcomes.Of(
            run.Entries,
            op => op.Kind == KvOperationKind.CompareAndSet,
            result => result?.Status == KvStatus.CompareFailed);
        int operations = run.Entries.Count;
        // Each attempt is one client round trip; the leader answers after one replication round
        // (AppendEntries for a CAS, the ReadIndex heartbeat for a read).
        double roundTrips = 1 + ((double)attempts / Math.Max(1, operations));
        return Row(RaftCas, options, run.History, outcomes, roundTrips, elapsed, run.SimulatedUs);
    }

    private static CasProtocolResult Row(
        string protocol,
        CasComparisonOptions options,
        History history,
        Outcomes outcomes,
        double roundTrips,
        TimeSpan elapsed,
        long simulatedUs)
    {
        LinearizabilityResult check = LinearizabilityChecker.Check(history, Models.CasRegister, new CheckBudget { MaxSteps = options.LinearizabilityStepsMax });
        return new CasProtocolResult(
            protocol,
            outcomes.Operations,
            outcomes.CasSucceeded,
            outcomes.CasCompareFailed,
            outcomes.Indeterminate,
            LatencyPercentiles.Of(outcomes.CasUs),
            LatencyPercentiles.Of(outcomes.ReadUs),
            Math.Round(roundTrips, 2),
            Math.Round(outcomes.Operations / Math.Max(elapsed.TotalSeconds, 1e-9)),
            QuorumSweep.VerdictName(check.Verdict),
            simulatedUs);
    }

    /// <summary>Latencies of answered operations and outcome counts, from any protocol's recorded history.</summary>
    private sealed class Outcomes
    {
        public List<long> CasUs { get; } = [];

        public List<long> ReadUs { get; } = [];

        public int Operations { get; private set; }

        public int CasSucceeded { get; private set; }

        public int CasCompareFailed { get; private set; }

        /// <summary>Timed out or still pending: the operation may or may not have taken effect.</summary>
        public int Indeterminate { get; private set; }

        public static Outcomes Of<TOperation, TResult>(
            IReadOnlyList<HistoryEntry<TOperation, TResult>> entries,
            Func<TOperation, bool> isCas,
            Func<TResult?, bool> isCompareFailed)
        {
            var outcomes = new Outcomes { Operations = entries.Count };
            foreach (HistoryEntry<TOperation, TResult> entry in entries)
            {
                bool cas = isCas(entry.Operation);
                switch (entry.Completion)
                {
                    case CompletionType.Ok:
                        (cas ? outcomes.CasUs : outcomes.ReadUs).Add(entry.CompleteUs!.Value - entry.InvokeUs);
                        outcomes.CasSucceeded += cas ? 1 : 0;
                        break;
                    case CompletionType.Fail when isCompareFailed(entry.Result):
                        outcomes.CasUs.Add(entry.CompleteUs!.Value - entry.InvokeUs);
                        outcomes.CasCompareFailed++;
                        break;
                    case CompletionType.Fail:
                        break; // refused before anything was sent
                    default:
                        outcomes.Indeterminate++;
                        break;
                }
            }

            return outcomes;
        }
    }
}
