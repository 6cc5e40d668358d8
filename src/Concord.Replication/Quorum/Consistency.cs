using System.Globalization;

namespace Concord.Replication.Quorum;

/// <summary>Cassandra's consistency levels, plus <see cref="Count"/> for an explicit R or W.</summary>
public enum ConsistencyLevel
{
    One,
    Two,
    Quorum,
    LocalQuorum,
    EachQuorum,
    All,

    /// <summary>Exactly <see cref="Consistency.Count"/> replicas, any region: the R and W of the Dynamo paper.</summary>
    Count,
}

/// <summary>
/// How many replicas must answer a request before the coordinator answers the client. Per request,
/// as in Cassandra; <c>R + W &gt; N</c> makes read and write quorums intersect.
/// </summary>
public readonly record struct Consistency(ConsistencyLevel Level, int Count = 0)
{
    public static Consistency One => new(ConsistencyLevel.One);

    public static Consistency Two => new(ConsistencyLevel.Two);

    public static Consistency Quorum => new(ConsistencyLevel.Quorum);

    public static Consistency LocalQuorum => new(ConsistencyLevel.LocalQuorum);

    public static Consistency EachQuorum => new(ConsistencyLevel.EachQuorum);

    public static Consistency All => new(ConsistencyLevel.All);

    /// <summary>An explicit R or W.</summary>
    public static Consistency Of(int count) => count >= 1
        ? new(ConsistencyLevel.Count, count)
        : throw new ArgumentOutOfRangeException(nameof(count), count, "An explicit R or W must be at least 1.");

    /// <summary>
    /// The answers needed for a key whose replicas live in <paramref name="replicaRegions"/>, for a
    /// coordinator in <paramref name="coordinatorRegion"/>; null when no set of replicas can satisfy
    /// it (Cassandra's Unavailable), e.g. ALL of 3 with W = 4, or LOCAL_QUORUM with no local replica.
    /// </summary>
    public QuorumRequirement? Resolve(IReadOnlyList<string> replicaRegions, string coordinatorRegion)
    {
        ArgumentNullException.ThrowIfNull(replicaRegions);
        int n = replicaRegions.Count;
        int MajorityOf(int count) => (count / 2) + 1;
        switch (Level)
        {
            case ConsistencyLevel.LocalQuorum:
                int local = replicaRegions.Count(r => string.Equals(r, coordinatorRegion, StringComparison.Ordinal));
                return local == 0 ? null : new QuorumRequirement(0, [new RegionMinimum(coordinatorRegion, MajorityOf(local))]);
            case ConsistencyLevel.EachQuorum:
                return new QuorumRequirement(0, [.. replicaRegions
                    .Distinct(StringComparer.Ordinal)
                    .Select(region => new RegionMinimum(region, MajorityOf(replicaRegions.Count(r => string.Equals(r, region, StringComparison.Ordinal)))))]);
            default:
                int total = Level switch
                {
                    ConsistencyLevel.One => 1,
                    ConsistencyLevel.Two => 2,
                    ConsistencyLevel.Quorum => MajorityOf(n),
                    ConsistencyLevel.All => n,
                    ConsistencyLevel.Count => Count,
                    _ => throw new ArgumentOutOfRangeException(nameof(Level), Level, "Unknown consistency level."),
                };
                return total >= 1 && total <= n ? new QuorumRequirement(total, []) : null;
        }
    }

    public override string ToString() => Level switch
    {
        ConsistencyLevel.Count => Count.ToString(CultureInfo.InvariantCulture),
        ConsistencyLevel.LocalQuorum => "LOCAL_QUORUM",
        ConsistencyLevel.EachQuorum => "EACH_QUORUM",
        _ => Level.ToString().ToUpperInvariant(),
    };
}

/// <summary>At least <see cref="Min"/> answers from replicas in <see cref="Region"/>.</summary>
public readonly record struct RegionMinimum(string Region, int Min);

/// <summary>A resolved <see cref="Consistency"/>: a total and per-region minimums, all of which must hold.</summary>
public sealed record QuorumRequirement(int TotalMin, IReadOnlyList<RegionMinimum> RegionMins)
{
    /// <summary>True when answers from nodes in <paramref name="answerRegions"/> (one entry per answer) satisfy every minimum.</summary>
    public bool IsMetBy(IReadOnlyCollection<string> answerRegions)
    {
        ArgumentNullException.ThrowIfNull(answerRegions);
        if (answerRegions.Count < TotalMin)
        {
            return false;
        }

        foreach (RegionMinimum minimum in RegionMins)
        {
            if (answerRegions.Count(r => string.Equals(r, minimum.Region, StringComparison.Ordinal)) < minimum.Min)
            {
                return false;
            }
        }

        return true;
    }
}
