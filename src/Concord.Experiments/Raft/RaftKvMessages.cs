using System.Globalization;
using System.Text;
using Concord.Core;
using Concord.Replication.Raft;

namespace Concord.Experiments.Raft;

public enum KvOperationKind
{
    Get,
    Put,
    CompareAndSet,
}

/// <summary>A client's request. <see cref="Expected"/> (CAS only) null means "the key is absent".</summary>
public sealed record KvOperation(KvOperationKind Kind, string Key, long Value, long? Expected);

/// <summary>Where a get is served and what it promises.</summary>
public enum KvReadMode
{
    /// <summary>Linearizable, on the leader: ReadIndex, or the lease when one is configured and valid.</summary>
    Leader,

    /// <summary>
    /// Bounded-stale, on the replica the client picked (a nearby one): served when that replica heard
    /// from its leader within <c>FollowerReadStaleTicksMax</c> ticks and has applied the commit index
    /// that leader reported (or believes it leads: check-quorum bounds how long a deposed leader can
    /// believe that), else redirected to the leader.
    /// </summary>
    Follower,

    /// <summary>
    /// Read-your-writes, on the nearby replica: the client sends the highest log index it has seen
    /// (its writes' and reads' indexes) and the replica answers only once it has applied that far.
    /// </summary>
    FollowerWithToken,
}

public enum KvStatus
{
    Ok,
    /// <summary>The CAS committed but did not match: it changed nothing.</summary>
    CompareFailed,
    /// <summary>Not proposed here (not the leader, or back-pressure): it changed nothing; try <c>LeaderHint</c>.</summary>
    NotLeader,
}

/// <summary>
/// Keys to Raft groups: <c>k0</c>…<c>k(KeyCount−1)</c> split into <see cref="Groups"/> contiguous ranges
/// of near-equal size. Clients and servers use the same map to route a key to its group.
/// </summary>
public sealed record KeyRanges(int KeyCount, int Groups)
{
    public int GroupOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Invariant.Assert(key.Length > 1 && key[0] == 'k');
        int number = int.Parse(key.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
        Invariant.Assert(number < KeyCount);
        return (int)((long)number * Groups / KeyCount);
    }
}

/// <summary>What crosses the simulated network: Raft traffic between servers, requests and replies with clients.</summary>
public abstract record RaftKvMessage;

/// <summary>Raft traffic of one group between two servers.</summary>
public sealed record PeerMessage(int Group, RaftMessage Raft) : RaftKvMessage
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"g{Group} {Raft}");
}

/// <summary>A client's request; <see cref="MinIndex"/> is the read-your-writes token of <see cref="KvReadMode.FollowerWithToken"/>.</summary>
public sealed record KvRequest(long RequestId, KvOperation Operation, KvReadMode ReadMode = KvReadMode.Leader, long MinIndex = 0) : RaftKvMessage;

/// <summary>
/// The answer. <see cref="Index"/>: for a write, the log index of its entry; for a read, the applied
/// index it was served at (a token for later reads). <see cref="VersionIndex"/>: for a read, the index
/// of the entry that wrote the value returned (0: never written).
/// </summary>
public sealed record KvReply(long RequestId, KvStatus Status, long? Value, NodeId? LeaderHint) : RaftKvMessage
{
    public long Index { get; init; }

    public long VersionIndex { get; init; }
}

/// <summary>
/// The replicated state machine: a map of keys to integers with get, put and compare-and-set.
/// Commands are text in the log (readable in traces): <c>client:request put key value</c> or
/// <c>client:request cas key expected|nil new</c>.
/// </summary>
/// <remarks>
/// Client sessions (Raft thesis §6.3): the network duplicates requests and clients retry, so one
/// request may be committed twice. Each client's request ids only grow, and the state machine
/// remembers the last one applied per client with its outcome: a repeat applies nothing and
/// returns the remembered outcome, an older id applies nothing. The table is rebuilt with the
/// state machine when the log is replayed, and travels in its snapshots.
/// </remarks>
public sealed class KvStateMachine
{
    private readonly SortedDictionary<string, (long Value, long Index)> _values = new(StringComparer.Ordinal);
    private readonly SortedDictionary<uint, (long RequestId, KvStatus Status, long Index)> _sessions = [];

    public long AppliedIndex { get; private set; }

    public long? Get(string key) => _values.TryGetValue(key, out var value) ? value.Value : null;

    /// <summary>The index of the entry that last wrote <paramref name="key"/>; 0 when none did.</summary>
    public long VersionOf(string key) => _values.TryGetValue(key, out var value) ? value.Index : 0;

    /// <summary>
    /// The whole state as text, deterministic (sorted): <c>applied N</c>, then <c>v key value index</c>
    /// per key and <c>s client request status index</c> per session.
    /// </summary>
    public string Serialize()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"applied {AppliedIndex}\n");
        foreach ((string key, (long value, long index)) in _values)
        {
            text.Append(CultureInfo.InvariantCulture, $"v {key} {value} {index}\n");
        }

        foreach ((uint client, (long requestId, KvStatus status, long index)) in _sessions)
        {
            text.Append(CultureInfo.InvariantCulture, $"s {client} {requestId} {status} {index}\n");
        }

        return text.ToString();
    }

    /// <summary>The state machine <see cref="Serialize"/> wrote.</summary>
    public static KvStateMachine Restore(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var machine = new KvStateMachine();
        foreach (string line in data.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(' ');
            switch (parts[0])
            {
                case "applied":
                    machine.AppliedIndex = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
                case "v":
                    machine._values[parts[1]] = (long.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
                    break;
                case "s":
                    machine._sessions[uint.Parse(parts[1], CultureInfo.InvariantCulture)] = (long.Parse(parts[2], CultureInfo.InvariantCulture), Enum.Parse<KvStatus>(parts[3]), long.Parse(parts[4], CultureInfo.InvariantCulture));
                    break;
                default:
                    Invariant.Fail("unreadable snapshot line: " + line);
                    break;
            }
        }

        return machine;
    }

    public static string Encode(NodeId client, long requestId, KvOperation operation)
    {
        Invariant.Assert(operation.Kind != KvOperationKind.Get);
        Invariant.Assert(!operation.Key.Contains(' ', StringComparison.Ordinal));
        return operation.Kind == KvOperationKind.Put
            ? string.Create(CultureInfo.InvariantCulture, $"{client.Value}:{requestId} put {operation.Key} {operation.Value}")
            : string.Create(CultureInfo.InvariantCulture, $"{client.Value}:{requestId} cas {operation.Key} {(operation.Expected is { } e ? e.ToString(CultureInfo.InvariantCulture) : "nil")} {operation.Value}");
    }

    /// <summary>
    /// Applies the entry at <paramref name="index"/>, which must be the next one; returns who asked, the
    /// outcome, and the index where the request took effect (an earlier one for a repeat).
    /// </summary>
    public (string RequestKey, KvStatus Status, long Index)? Apply(long index, string? command)
    {
        Invariant.Assert(index == AppliedIndex + 1);
        AppliedIndex = index;
        if (command is null)
        {
            return null;
        }

        string[] parts = command.Split(' ');
        Invariant.Assert(parts.Length is 4 or 5);
        string[] request = parts[0].Split(':');
        uint client = uint.Parse(request[0], CultureInfo.InvariantCulture);
        long requestId = long.Parse(request[1], CultureInfo.InvariantCulture);
        if (_sessions.TryGetValue(client, out var last) && requestId <= last.RequestId)
        {
            return requestId == last.RequestId ? (parts[0], last.Status, last.Index) : null;
        }

        (string RequestKey, KvStatus Status) outcome = Execute(index, parts);
        _sessions[client] = (requestId, outcome.Status, index);
        return (outcome.RequestKey, outcome.Status, index);
    }

    private (string RequestKey, KvStatus Status) Execute(long index, string[] parts)
    {
        string key = parts[2];
        switch (parts[1])
        {
            case "put":
                _values[key] = (long.Parse(parts[3], CultureInfo.InvariantCulture), index);
                return (parts[0], KvStatus.Ok);
            case "cas":
                long? expected = parts[3] == "nil" ? null : long.Parse(parts[3], CultureInfo.InvariantCulture);
                if (Get(key) != expected)
                {
                    return (parts[0], KvStatus.CompareFailed);
                }

                _values[key] = (long.Parse(parts[4], CultureInfo.InvariantCulture), index);
                return (parts[0], KvStatus.Ok);
            default:
                Invariant.Fail("unknown command " + string.Join(' ', parts));
                return default;
        }
    }

    public static string RequestKey(NodeId client, long requestId) => string.Create(CultureInfo.InvariantCulture, $"{client.Value}:{requestId}");
}
