using System.Globalization;

namespace Concord.Replication.Quorum;

/// <summary>
/// Per-node protocol settings; every node of a cluster must use the same. Times are the node's own
/// monotonic microseconds. <see cref="Problems"/> validates everything at once (etcd's Config.validate).
/// </summary>
public sealed record QuorumConfig
{
    public const long TimeoutUsMax = 60_000_000;

    public VersionMode Versioning { get; init; } = VersionMode.LastWriteWins;

    /// <summary>After answering a read, push the merged state to replicas that returned an older one.</summary>
    public bool ReadRepair { get; init; } = true;

    /// <summary>Keep writes for replicas that did not ack, and replay them until they do.</summary>
    public bool HintedHandoff { get; init; } = true;

    /// <summary>
    /// Dynamo's sloppy quorum: when owners are slow, count answers from fallback nodes (which keep
    /// the write as a hint). Raises availability and breaks the R + W &gt; N intersection.
    /// </summary>
    public bool SloppyQuorum { get; init; }

    /// <summary>The coordinator answers Timeout if the consistency level is not met by then.</summary>
    public long RequestTimeoutUs { get; init; } = 500_000;

    /// <summary>With <see cref="SloppyQuorum"/>: how long to wait for owners before asking fallbacks.</summary>
    public long SloppyFallbackAfterUs { get; init; } = 100_000;

    /// <summary>How often a node replays its hints.</summary>
    public long HintReplayIntervalUs { get; init; } = 200_000;

    /// <summary>Hints resent per replay round (bounds a burst after a long partition).</summary>
    public int HintReplayBatchMax { get; init; } = 64;

    /// <summary>Hints kept per node; further hints are dropped and counted (anti-entropy still repairs).</summary>
    public int HintsMax { get; init; } = 10_000;

    /// <summary>How often a node starts an anti-entropy exchange with its next peer; 0 turns anti-entropy off.</summary>
    public long AntiEntropyIntervalUs { get; init; } = 1_000_000;

    /// <summary>Merkle tree depth: 2^depth leaf ranges per exchange.</summary>
    public int MerkleDepth { get; init; } = 6;

    /// <summary>Requests a coordinator tracks at once; more are refused as Unavailable.</summary>
    public int PendingRequestsMax { get; init; } = 10_000;

    /// <summary>
    /// The HLC's bound on how far a remote timestamp may lead this node's clock before it is refused
    /// (not absorbed). In µs, because the HLC ticks in µs here (see <see cref="MicrosecondHlcClock"/>).
    /// </summary>
    public long HlcMaxOffsetUs { get; init; } = 50_000;

    /// <summary>Lightweight transactions (Paxos per key): phases, timeout, contention backoff.</summary>
    public LwtConfig Lwt { get; init; } = new();

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Range(string name, long value, long min, long max)
        {
            if (value < min || value > max)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be within [{min}, {max}]; got {value}."));
            }
        }

        if (!Enum.IsDefined(Versioning))
        {
            problems.Add($"Versioning {Versioning} is not a version mode.");
        }

        Range(nameof(RequestTimeoutUs), RequestTimeoutUs, 1, TimeoutUsMax);
        Range(nameof(SloppyFallbackAfterUs), SloppyFallbackAfterUs, 1, RequestTimeoutUs);
        Range(nameof(HintReplayIntervalUs), HintReplayIntervalUs, 1, TimeoutUsMax);
        Range(nameof(HintReplayBatchMax), HintReplayBatchMax, 1, 1 << 16);
        Range(nameof(HintsMax), HintsMax, 0, 1 << 24);
        Range(nameof(AntiEntropyIntervalUs), AntiEntropyIntervalUs, 0, TimeoutUsMax);
        Range(nameof(MerkleDepth), MerkleDepth, 0, 16);
        Range(nameof(PendingRequestsMax), PendingRequestsMax, 1, 1 << 20);
        Range(nameof(HlcMaxOffsetUs), HlcMaxOffsetUs, 1, Core.Clocks.HybridLogicalClock.MaxOffsetMsLimit);
        if (Lwt is null)
        {
            problems.Add("Lwt must not be null.");
        }
        else
        {
            problems.AddRange(Lwt.Problems());
        }

        return problems;
    }

    public void Validate()
    {
        IReadOnlyList<string> problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid quorum config: " + string.Join(" ", problems));
        }
    }
}
