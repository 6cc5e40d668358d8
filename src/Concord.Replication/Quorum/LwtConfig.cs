using System.Globalization;

namespace Concord.Replication.Quorum;

/// <summary>
/// Settings of lightweight transactions (Paxos per key, see README.md). Every phase needs a majority
/// of the key's N replicas (Cassandra's SERIAL); the request's consistency level is not used.
/// </summary>
public sealed record LwtConfig
{
    /// <summary>
    /// False: Cassandra's Paxos v1 — prepare, then a separate quorum read, then propose, then commit
    /// (four round trips). True: replicas return their value in the promise, so the read costs no
    /// round trip of its own (three), as Cassandra's Paxos v2 does.
    /// </summary>
    public bool ReadInPrepare { get; init; }

    /// <summary>The coordinator answers Timeout (outcome unknown) if the transaction has not finished by then.</summary>
    public long RequestTimeoutUs { get; init; } = 1_000_000;

    /// <summary>Prepare rounds per request, counting contention retries and rounds that repaired another proposal first.</summary>
    public int RoundsMax { get; init; } = 10;

    /// <summary>
    /// After a ballot conflict the coordinator waits uniformly within [1, this × 2^(retries−1)] µs
    /// (capped at 16×) before preparing again, so that duelling proposers stop pre-empting each other.
    /// </summary>
    public long BackoffUsMax { get; init; } = 2_000;

    /// <summary>
    /// Negative control, test-only: ignore an accepted but uncommitted proposal found in the promises
    /// instead of finishing it first. A value chosen by a majority can then be overwritten by a
    /// proposer that read the state before it. The simulation tests must catch it.
    /// </summary>
    internal bool UnsafeSkipInProgressRepair { get; init; }

    /// <summary>Negative control, test-only: a proposal counts as chosen once a single replica accepted it.</summary>
    internal bool UnsafeMinorityAccept { get; init; }

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (RequestTimeoutUs is < 1 or > QuorumConfig.TimeoutUsMax)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Lwt.RequestTimeoutUs must be within [1, {QuorumConfig.TimeoutUsMax}]; got {RequestTimeoutUs}."));
        }

        if (RoundsMax is < 1 or > 1_000)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Lwt.RoundsMax must be within [1, 1000]; got {RoundsMax}."));
        }

        if (BackoffUsMax is < 1 or > 10_000_000)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Lwt.BackoffUsMax must be within [1, 10000000]; got {BackoffUsMax}."));
        }

        return problems;
    }
}
