using Concord.Core;
using Concord.Core.Clocks;
using Concord.Core.Crdts;

namespace Concord.Replication.Quorum;

public sealed partial class QuorumNode
{
    private readonly Dictionary<long, PendingRequest> _pending = [];
    private long _nextId;

    private enum Phase
    {
        Reading,
        Writing,
    }

    private void OnClientRequest(ClientRequest request, IQuorumHost host)
    {
        if (request.Kind is OperationKind.PaxosCompareAndSet or OperationKind.SerialRead)
        {
            StartLwt(request, host);
            return;
        }

        if (ModeRefusal(request) is { } refusal)
        {
            Refuse(request, refusal, host);
            return;
        }

        Placement placement = _ring.PlacementOf(request.Key);
        bool replicaCoordinated = request.Kind is OperationKind.Increment or OperationKind.AddToSet
            || (request.Kind == OperationKind.Write && _config.Versioning == VersionMode.DottedVersionVectors);
        if (replicaCoordinated && !placement.Replicas.Contains(Self))
        {
            // A DVV dot or a CRDT replica entry must be issued by a node that holds the key's state
            // (Riak forwards such puts to a vnode of the preference list). One hop at most.
            if (request.Hops >= 1)
            {
                Refuse(request, "forwarded to a node that does not replicate the key", host);
                return;
            }

            NodeId target = placement.Replicas.FirstOrDefault(n => _ring.RegionOf(n) == Region, placement.Replicas[0]);
            Stats.RequestsForwarded++;
            host.Send(target, request with { Hops = request.Hops + 1 });
            return;
        }

        QuorumRequirement? requirement = request.Consistency.Resolve([.. placement.Replicas.Select(_ring.RegionOf)], Region);
        if (requirement is null)
        {
            Refuse(request, $"consistency {request.Consistency} cannot be met by {placement.Replicas.Count} replicas", host);
            return;
        }

        if (_pending.Count >= _config.PendingRequestsMax)
        {
            Refuse(request, "coordinator overloaded", host);
            return;
        }

        Stats.RequestsCoordinated++;
        var pending = new PendingRequest(NextId(), request, placement, requirement);
        _pending.Add(pending.Id, pending);
        host.SetTimer(_config.RequestTimeoutUs, Tag(TimerKind.RequestTimeout, pending.Id));
        if (_config.SloppyQuorum)
        {
            host.SetTimer(_config.SloppyFallbackAfterUs, Tag(TimerKind.SloppyFallback, pending.Id));
        }

        if (request.Kind is OperationKind.Read or OperationKind.CompareAndSet)
        {
            StartRead(pending, host);
        }
        else
        {
            StartWrite(pending, UpdateFor(request, placement), host);
        }
    }

    private string? ModeRefusal(ClientRequest request) => (request.Kind, _config.Versioning) switch
    {
        (OperationKind.Read, _) => null,
        (OperationKind.Write, VersionMode.LastWriteWins or VersionMode.DottedVersionVectors) => null,
        (OperationKind.CompareAndSet, VersionMode.LastWriteWins) => null,
        (OperationKind.Increment or OperationKind.AddToSet, VersionMode.Crdt) => null,
        _ => $"{request.Kind} is not supported with {_config.Versioning} versioning",
    };

    private void Refuse(ClientRequest request, string reason, IQuorumHost host)
    {
        Stats.Unavailable++;
        host.Send(request.Client, new ClientReply(request.RequestId, ReplyStatus.Unavailable, [], null, reason));
    }

    private void StartRead(PendingRequest pending, IQuorumHost host)
    {
        pending.Phase = Phase.Reading;
        pending.Asked.UnionWith(pending.Placement.Replicas);
        foreach (NodeId replica in pending.Placement.Replicas.Where(r => r != Self))
        {
            host.Send(replica, new ReplicaRead(pending.Id, pending.Request.Key));
        }

        // The local answer last: it may complete the request, which must not stop the sends above.
        if (pending.Asked.Contains(Self))
        {
            RecordReadReply(pending, Self, _store.GetValueOrDefault(pending.Request.Key), host);
        }
    }

    private void StartWrite(PendingRequest pending, StoredValue value, IQuorumHost host)
    {
        pending.Phase = Phase.Writing;
        pending.WriteValue = value;
        pending.Asked.Clear();
        pending.Answered.Clear();
        pending.AnswerRegions.Clear();
        pending.FallbackFor.Clear();
        pending.Asked.UnionWith(pending.Placement.Replicas);
        foreach (NodeId replica in pending.Placement.Replicas.Where(r => r != Self))
        {
            host.Send(replica, new ReplicaWrite(pending.Id, pending.Request.Key, value));
        }

        if (pending.Asked.Contains(Self))
        {
            MergeLocal(pending.Request.Key, value, host);
            RecordWriteAck(pending, Self, host);
        }
    }

    /// <summary>The state a write or update replicates: stamped here (LWW) or computed from this replica's state (DVV, CRDT).</summary>
    private StoredValue UpdateFor(ClientRequest request, Placement placement)
    {
        StoredValue? current = _store.GetValueOrDefault(request.Key);
        switch (request.Kind)
        {
            case OperationKind.Write when _config.Versioning == VersionMode.LastWriteWins:
                return new LwwValue(_hlc.Now(), Self, request.Value);
            case OperationKind.Write:
                Invariant.Assert(placement.Replicas.Contains(Self));
                DvvSet<long> siblings = current is SiblingsValue s ? s.Set : DvvSet<long>.Empty;
                return new SiblingsValue(siblings.Put(Self, request.Context ?? VectorClock.Empty, request.Value));
            case OperationKind.Increment:
                Invariant.Assert(placement.Replicas.Contains(Self));
                PNCounter counter = current is CounterValue c ? c.Counter : PNCounter.Empty;
                return new CounterValue(request.Value >= 0
                    ? counter.Increment(Self, (ulong)request.Value).State
                    : counter.Decrement(Self, (ulong)-request.Value).State);
            case OperationKind.AddToSet:
                Invariant.Assert(placement.Replicas.Contains(Self));
                ORSet<long> set = current is SetValue v ? v.Set : ORSet<long>.Empty;
                return new SetValue(set.Add(Self, request.Value).State);
            default:
                throw new InvalidOperationException($"{request.Kind} is not an update.");
        }
    }

    private void OnReplicaReadReply(NodeId from, ReplicaReadReply reply, IQuorumHost host)
    {
        if (_pending.TryGetValue(reply.RpcId, out PendingRequest? pending) && pending.Phase == Phase.Reading && pending.Asked.Contains(from))
        {
            RecordReadReply(pending, from, reply.Value, host);
        }
    }

    private void OnReplicaWriteAck(NodeId from, ReplicaWriteAck ack, IQuorumHost host)
    {
        if (_pending.TryGetValue(ack.RpcId, out PendingRequest? pending) && pending.Phase == Phase.Writing && pending.Asked.Contains(from))
        {
            RecordWriteAck(pending, from, host);
        }
    }

    private void RecordReadReply(PendingRequest pending, NodeId from, StoredValue? value, IQuorumHost host)
    {
        if (!pending.Answered.Add(from))
        {
            return; // a duplicated reply counts once
        }

        pending.AnswerRegions.Add(_ring.RegionOf(from));
        pending.ReadValues[from] = value;
        if (!pending.ClientAnswered && pending.Requirement.IsMetBy(pending.AnswerRegions))
        {
            StoredValue? merged = Merged(pending);
            if (pending.Request.Kind == OperationKind.CompareAndSet)
            {
                ContinueCompareAndSet(pending, merged, host);
                return;
            }

            pending.ClientAnswered = true;
            host.Send(pending.Request.Client, new ClientReply(
                pending.Request.RequestId, ReplyStatus.Ok, merged?.Values ?? [], (merged as SiblingsValue)?.Context));
        }

        if (pending.ClientAnswered && pending.Answered.Count == pending.Asked.Count)
        {
            FinishRead(pending, host);
        }
    }

    private void ContinueCompareAndSet(PendingRequest pending, StoredValue? current, IQuorumHost host)
    {
        var currentCell = (LwwValue?)current;
        bool matches = pending.Request.Expected is { } expected ? currentCell?.Value == expected : currentCell is null;
        if (!matches)
        {
            pending.ClientAnswered = true;
            host.Send(pending.Request.Client, new ClientReply(
                pending.Request.RequestId, ReplyStatus.CompareFailed, current?.Values ?? [], null, "current value differs"));
            FinishRead(pending, host);
            return;
        }

        // Stamp above the value compared against, so the write wins over it at every replica. That is
        // all this CAS guarantees: two coordinators can both read the same value and both succeed.
        if (currentCell is not null)
        {
            ObserveTimestamp(currentCell.Timestamp);
        }

        StartWrite(pending, new LwwValue(_hlc.Now(), Self, pending.Request.Value), host);
    }

    private void RecordWriteAck(PendingRequest pending, NodeId from, IQuorumHost host)
    {
        if (!pending.Answered.Add(from))
        {
            return;
        }

        pending.AnswerRegions.Add(_ring.RegionOf(from));
        if (!pending.ClientAnswered && pending.Requirement.IsMetBy(pending.AnswerRegions))
        {
            pending.ClientAnswered = true;
            host.Send(pending.Request.Client, new ClientReply(pending.Request.RequestId, ReplyStatus.Ok, [], null));
        }

        if (pending.Answered.Count == pending.Asked.Count)
        {
            _pending.Remove(pending.Id);
        }
    }

    private void OnRequestTimeout(long id, IQuorumHost host)
    {
        if (!_pending.TryGetValue(id, out PendingRequest? pending))
        {
            return;
        }

        if (!pending.ClientAnswered)
        {
            pending.ClientAnswered = true;
            Stats.Timeouts++;
            host.Send(pending.Request.Client, new ClientReply(pending.Request.RequestId, ReplyStatus.Timeout, [], null,
                $"{pending.Answered.Count} of {pending.Asked.Count} replicas answered in time"));
        }

        if (pending.Phase == Phase.Reading)
        {
            FinishRead(pending, host);
            return;
        }

        _pending.Remove(id);
        if (_config.HintedHandoff)
        {
            foreach (NodeId replica in pending.Placement.Replicas)
            {
                // An owner is covered when it acked, or when a fallback acked a hint on its behalf.
                bool covered = pending.Answered.Contains(replica)
                    || pending.FallbackFor.Any(f => f.Value == replica && pending.Answered.Contains(f.Key));
                if (!covered)
                {
                    StoreHint(replica, pending.Request.Key, pending.WriteValue!, host);
                }
            }
        }
    }

    private void OnSloppyFallback(long id, IQuorumHost host)
    {
        if (!_pending.TryGetValue(id, out PendingRequest? pending) || pending.ClientAnswered)
        {
            return;
        }

        // Dynamo §4.6: stand in for each silent owner with the next healthy-looking node on the ring.
        foreach (NodeId owner in pending.Placement.Replicas)
        {
            if (pending.Answered.Contains(owner))
            {
                continue;
            }

            NodeId? fallback = pending.Placement.Fallbacks.Cast<NodeId?>().FirstOrDefault(f => !pending.Asked.Contains(f!.Value));
            if (fallback is not { } stand)
            {
                break;
            }

            Stats.FallbacksUsed++;
            pending.Asked.Add(stand);
            pending.FallbackFor[stand] = owner;
            QuorumMessage message = pending.Phase == Phase.Reading
                ? new ReplicaRead(pending.Id, pending.Request.Key)
                : new ReplicaWrite(pending.Id, pending.Request.Key, pending.WriteValue!, owner);
            if (stand == Self)
            {
                Receive(Self, message, new LoopbackHost(this, host));
            }
            else
            {
                host.Send(stand, message);
            }
        }
    }

    /// <summary>Read repair, once every asked replica answered or the request timed out.</summary>
    private void FinishRead(PendingRequest pending, IQuorumHost host)
    {
        _pending.Remove(pending.Id);
        if (!_config.ReadRepair)
        {
            return;
        }

        StoredValue? merged = Merged(pending);
        if (merged is null)
        {
            return;
        }

        foreach ((NodeId replica, StoredValue? value) in pending.ReadValues)
        {
            if (pending.FallbackFor.ContainsKey(replica) || (value is not null && value.Equals(merged)))
            {
                continue; // fallbacks are not owners; they hand their hints over instead
            }

            Stats.ReadRepairsSent++;
            if (replica == Self)
            {
                if (MergeLocal(pending.Request.Key, merged, host))
                {
                    Stats.KeysRepairedByReadRepair++;
                }
            }
            else
            {
                host.Send(replica, new ReadRepair(pending.Request.Key, merged));
            }
        }
    }

    private static StoredValue? Merged(PendingRequest pending)
    {
        StoredValue? merged = null;
        foreach (StoredValue? value in pending.ReadValues.Values)
        {
            if (value is not null)
            {
                merged = merged is null ? value : merged.Merge(value);
            }
        }

        return merged;
    }

    /// <summary>A coordinator's state for one client request (both phases of a compare-and-set).</summary>
    private sealed class PendingRequest(long id, ClientRequest request, Placement placement, QuorumRequirement requirement)
    {
        public long Id { get; } = id;

        public ClientRequest Request { get; } = request;

        public Placement Placement { get; } = placement;

        public QuorumRequirement Requirement { get; } = requirement;

        public Phase Phase { get; set; }

        public bool ClientAnswered { get; set; }

        /// <summary>Nodes sent this phase's message: owners, then any fallbacks.</summary>
        public HashSet<NodeId> Asked { get; } = [];

        /// <summary>Nodes that replied or acked in this phase.</summary>
        public HashSet<NodeId> Answered { get; } = [];

        /// <summary>The region of each answer, for per-region consistency levels.</summary>
        public List<string> AnswerRegions { get; } = [];

        public Dictionary<NodeId, StoredValue?> ReadValues { get; } = [];

        public Dictionary<NodeId, NodeId> FallbackFor { get; } = [];

        public StoredValue? WriteValue { get; set; }
    }

    /// <summary>Lets the coordinator act as its own sloppy fallback: replies addressed to itself are handled at once.</summary>
    private sealed class LoopbackHost(QuorumNode node, IQuorumHost inner) : IQuorumHost
    {
        public void Send(NodeId to, QuorumMessage message)
        {
            if (to == node.Self)
            {
                node.Receive(to, message, this);
            }
            else
            {
                inner.Send(to, message);
            }
        }

        public void SetTimer(long delayUs, long tag) => inner.SetTimer(delayUs, tag);

        public void WriteDurable(string key, object value) => inner.WriteDurable(key, value);

        public void DeleteDurable(string key) => inner.DeleteDurable(key);
    }
}
