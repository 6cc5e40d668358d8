using System.Globalization;
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

public enum KvStatus
{
    Ok,
    /// <summary>The CAS committed but did not match: it changed nothing.</summary>
    CompareFailed,
    /// <summary>Not proposed here (not the leader, or back-pressure): it changed nothing; try <c>LeaderHint</c>.</summary>
    NotLeader,
}

/// <summary>What crosses the simulated network: Raft traffic between servers, requests and replies with clients.</summary>
public abstract record RaftKvMessage;

public sealed record PeerMessage(RaftMessage Raft) : RaftKvMessage
{
    public override string ToString() => Raft.ToString();
}

public sealed record KvRequest(long RequestId, KvOperation Operation) : RaftKvMessage;

public sealed record KvReply(long RequestId, KvStatus Status, long? Value, NodeId? LeaderHint) : RaftKvMessage;

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
/// state machine when the log is replayed.
/// </remarks>
public sealed class KvStateMachine
{
    private readonly Dictionary<string, long> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, (long RequestId, KvStatus Status)> _sessions = [];

    public long AppliedIndex { get; private set; }

    public long? Get(string key) => _values.TryGetValue(key, out long value) ? value : null;

    public static string Encode(NodeId client, long requestId, KvOperation operation)
    {
        Invariant.Assert(operation.Kind != KvOperationKind.Get);
        Invariant.Assert(!operation.Key.Contains(' ', StringComparison.Ordinal));
        return operation.Kind == KvOperationKind.Put
            ? string.Create(CultureInfo.InvariantCulture, $"{client.Value}:{requestId} put {operation.Key} {operation.Value}")
            : string.Create(CultureInfo.InvariantCulture, $"{client.Value}:{requestId} cas {operation.Key} {(operation.Expected is { } e ? e.ToString(CultureInfo.InvariantCulture) : "nil")} {operation.Value}");
    }

    /// <summary>Applies the entry at <paramref name="index"/>, which must be the next one; returns who asked and the outcome.</summary>
    public (string RequestKey, KvStatus Status)? Apply(long index, string? command)
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
            return requestId == last.RequestId ? (parts[0], last.Status) : null;
        }

        (string RequestKey, KvStatus Status) outcome = Execute(parts);
        _sessions[client] = (requestId, outcome.Status);
        return outcome;
    }

    private (string RequestKey, KvStatus Status) Execute(string[] parts)
    {
        string key = parts[2];
        switch (parts[1])
        {
            case "put":
                _values[key] = long.Parse(parts[3], CultureInfo.InvariantCulture);
                return (parts[0], KvStatus.Ok);
            case "cas":
                long? expected = parts[3] == "nil" ? null : long.Parse(parts[3], CultureInfo.InvariantCulture);
                if (Get(key) != expected)
                {
                    return (parts[0], KvStatus.CompareFailed);
                }

                _values[key] = long.Parse(parts[4], CultureInfo.InvariantCulture);
                return (parts[0], KvStatus.Ok);
            default:
                Invariant.Fail("unknown command " + string.Join(' ', parts));
                return default;
        }
    }

    public static string RequestKey(NodeId client, long requestId) => string.Create(CultureInfo.InvariantCulture, $"{client.Value}:{requestId}");
}
