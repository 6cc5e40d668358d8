using Concord.Core;

namespace Concord.Replication.Quorum;

public sealed partial class QuorumNode
{
    private void OnReplicaRead(NodeId from, ReplicaRead read, IQuorumHost host)
    {
        StoredValue? value = _store.GetValueOrDefault(read.Key);
        if (!_ring.ReplicasOf(read.Key).Contains(Self))
        {
            // Asked as a sloppy-quorum fallback: what it holds for the key is in its hints.
            foreach (Hint hint in _hints.Values)
            {
                if (string.Equals(hint.Key, read.Key, StringComparison.Ordinal))
                {
                    value = value is null ? hint.Value : value.Merge(hint.Value);
                }
            }
        }

        host.Send(from, new ReplicaReadReply(read.RpcId, value));
    }

    private void OnReplicaWrite(NodeId from, ReplicaWrite write, IQuorumHost host)
    {
        if (write.HintFor is { } owner && owner != Self)
        {
            // Ack only what is kept: a dropped hint must not count toward the write's quorum.
            if (StoreHint(owner, write.Key, write.Value, host))
            {
                host.Send(from, new ReplicaWriteAck(write.RpcId));
            }

            return;
        }

        // Replicas are chosen by the coordinator's copy of the same ring, so a write here is ours.
        Invariant.Assert(_ring.ReplicasOf(write.Key).Contains(Self));
        MergeLocal(write.Key, write.Value, host);
        host.Send(from, new ReplicaWriteAck(write.RpcId));
    }
}
