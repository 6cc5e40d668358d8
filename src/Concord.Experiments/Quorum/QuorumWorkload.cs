using System.Globalization;
using Concord.Core.Randomness;
using Concord.Replication.Quorum;

namespace Concord.Experiments.Quorum;

public enum KeyDistribution
{
    Uniform,

    /// <summary>Key i has weight 1 / (i + 1)^<see cref="QuorumWorkloadOptions.ZipfExponent"/>: a few hot keys, as in YCSB.</summary>
    Zipfian,
}

/// <summary>
/// What the clients do. Every write (and compare-and-set) writes a value no other operation writes,
/// so the stale-read and lost-write checkers can name the write each read saw. With CRDT versioning,
/// writes become counter increments (<see cref="UseSets"/> false) or set adds.
/// </summary>
public sealed record QuorumWorkloadOptions
{
    public const int OperationCountMax = 10_000_000;

    /// <summary>Operations issued in total, over all clients.</summary>
    public int OperationCount { get; init; } = 2_000;

    /// <summary>Stop issuing after this much simulated time even if operations remain; null for no limit.</summary>
    public long? DurationUs { get; init; }

    public int KeyCount { get; init; } = 50;

    public KeyDistribution Keys { get; init; } = KeyDistribution.Uniform;

    public double ZipfExponent { get; init; } = 0.99;

    public double ReadFraction { get; init; } = 0.5;

    /// <summary>Compare-and-set share (LWW only); the rest after reads and CAS are writes.</summary>
    public double CasFraction { get; init; }

    public Consistency ReadConsistency { get; init; } = Consistency.Quorum;

    public Consistency WriteConsistency { get; init; } = Consistency.Quorum;

    /// <summary>A client waits uniformly in [0, this] between operations.</summary>
    public long ThinkTimeUsMax { get; init; } = 2_000;

    /// <summary>A client gives up (history <c>info</c>) if the coordinator has not answered by then.</summary>
    public long ClientTimeoutUs { get; init; } = 1_000_000;

    /// <summary>With CRDT versioning: OR-set adds instead of counter increments.</summary>
    public bool UseSets { get; init; }

    /// <summary>
    /// Lightweight transactions: reads are SERIAL reads and compare-and-sets run Paxos. Plain writes
    /// would bypass Paxos (unsafe to mix with LWTs on one key, as Cassandra documents), so reads
    /// and CAS must make up every operation.
    /// </summary>
    public bool LightweightTransactions { get; init; }

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (OperationCount is < 0 or > OperationCountMax)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"OperationCount must be within [0, {OperationCountMax}]; got {OperationCount}."));
        }

        if (DurationUs is <= 0)
        {
            problems.Add("DurationUs must be positive when set.");
        }

        if (KeyCount is < 1 or > 1_000_000)
        {
            problems.Add("KeyCount must be within [1, 1000000].");
        }

        if (!(ZipfExponent is >= 0 and <= 10))
        {
            problems.Add("ZipfExponent must be within [0, 10].");
        }

        if (!(ReadFraction is >= 0 and <= 1) || !(CasFraction is >= 0 and <= 1) || ReadFraction + CasFraction > 1)
        {
            problems.Add("ReadFraction and CasFraction must be within [0, 1] and sum to at most 1.");
        }

        if (LightweightTransactions && ReadFraction + CasFraction < 1)
        {
            problems.Add("With LightweightTransactions, ReadFraction and CasFraction must sum to 1: plain writes would bypass Paxos.");
        }

        if (ThinkTimeUsMax is < 0 or > 60_000_000)
        {
            problems.Add("ThinkTimeUsMax must be within [0, 60000000].");
        }

        if (ClientTimeoutUs is < 1 or > 60_000_000)
        {
            problems.Add("ClientTimeoutUs must be within [1, 60000000].");
        }

        return problems;
    }
}

/// <summary>One client operation as recorded in the history.</summary>
public sealed record QuorumOperation(OperationKind Kind, string Key, long Value, long? Expected);

/// <summary>What the client was told; <see cref="Values"/> for reads.</summary>
public sealed record QuorumOperationResult(ReplyStatus Status, IReadOnlyList<long> Values);

/// <summary>
/// State every client shares, held outside the simulated nodes so it survives client restarts: the
/// operation budget, the unique-value counter and the key chooser.
/// </summary>
internal sealed class WorkloadDriver
{
    private readonly double[]? _zipfCumulative;
    private long _nextValue;

    public WorkloadDriver(QuorumWorkloadOptions options)
    {
        Options = options;
        Keys = [.. Enumerable.Range(0, options.KeyCount).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture))];
        if (options.Keys == KeyDistribution.Zipfian)
        {
            _zipfCumulative = new double[options.KeyCount];
            double sum = 0;
            for (int i = 0; i < options.KeyCount; i++)
            {
                sum += 1.0 / Math.Pow(i + 1, options.ZipfExponent);
                _zipfCumulative[i] = sum;
            }

            for (int i = 0; i < options.KeyCount; i++)
            {
                _zipfCumulative[i] /= sum;
            }
        }
    }

    public QuorumWorkloadOptions Options { get; }

    public IReadOnlyList<string> Keys { get; }

    public int Issued { get; private set; }

    public int Completed { get; set; }

    /// <summary>Cleared by the run to stop clients (end of duration, quiescence).</summary>
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

    public long NextValue() => ++_nextValue;

    public string NextKey(SeededRandom random)
    {
        if (_zipfCumulative is null)
        {
            return Keys[random.NextInt(Keys.Count)];
        }

        int index = Array.BinarySearch(_zipfCumulative, random.NextDouble());
        index = index < 0 ? ~index : index;
        return Keys[Math.Min(index, Keys.Count - 1)];
    }
}
