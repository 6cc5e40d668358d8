using System.Globalization;
using Concord.Core.Randomness;

namespace Concord.Experiments.Raft;

/// <summary>What the clients do. Every put and CAS writes a value no other operation writes.</summary>
public sealed record RaftKvWorkloadOptions
{
    public int OperationCount { get; init; } = 200;

    public int KeyCount { get; init; } = 3;

    public double ReadFraction { get; init; } = 0.4;

    public double CasFraction { get; init; } = 0.2;

    /// <summary>Where gets are served: the leader (linearizable), or the client's nearby replica.</summary>
    public KvReadMode ReadMode { get; init; } = KvReadMode.Leader;

    public long ThinkTimeUsMax { get; init; } = 5_000;

    public long ClientTimeoutUs { get; init; } = 500_000;

    /// <summary>After a NotLeader answer the client waits this long before retrying at the hinted leader.</summary>
    public long RetryBackoffUs { get; init; } = 5_000;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (OperationCount < 0 || KeyCount < 1)
        {
            problems.Add("OperationCount must be ≥ 0 and KeyCount ≥ 1.");
        }

        if (ReadFraction < 0 || CasFraction < 0 || ReadFraction + CasFraction > 1)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"ReadFraction ({ReadFraction}) and CasFraction ({CasFraction}) must be ≥ 0 and sum to ≤ 1."));
        }

        if (ThinkTimeUsMax < 0 || ClientTimeoutUs < 1 || RetryBackoffUs < 1)
        {
            problems.Add("ThinkTimeUsMax must be ≥ 0, ClientTimeoutUs and RetryBackoffUs ≥ 1.");
        }

        return problems;
    }
}

/// <summary>The operation budget and unique values, shared by every client of one run (the simulator is single-threaded).</summary>
internal sealed class RaftKvWorkload(RaftKvWorkloadOptions options)
{
    private long _nextValue;

    public RaftKvWorkloadOptions Options { get; } = options;

    public int Issued { get; private set; }

    public bool Open { get; set; } = true;

    public bool TryTake()
    {
        if (!Open || Issued >= Options.OperationCount)
        {
            return false;
        }

        Issued++;
        return true;
    }

    public string NextKey(SeededRandom random) => "k" + random.NextInt(Options.KeyCount).ToString(CultureInfo.InvariantCulture);

    public long NextValue() => ++_nextValue;
}
