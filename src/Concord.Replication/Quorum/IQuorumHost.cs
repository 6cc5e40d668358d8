using Concord.Core;

namespace Concord.Replication.Quorum;

/// <summary>
/// What a <see cref="QuorumNode"/> asks its host to do. The node records effects here during a
/// handler; the host performs them after the handler returns, durable writes before messages
/// (etcd-raft's "persist before send"), so a node may ack in the same handler that stored the data.
/// The simulator adapter maps this onto its NodeContext; a socket host would do the same.
/// </summary>
public interface IQuorumHost
{
    void Send(NodeId to, QuorumMessage message);

    /// <summary>Fires <see cref="QuorumNode.OnTimer"/> with <paramref name="tag"/> after <paramref name="delayUs"/> of the node's monotonic clock.</summary>
    void SetTimer(long delayUs, long tag);

    /// <summary><paramref name="value"/> is immutable and handed back by reference on restart.</summary>
    void WriteDurable(string key, object value);

    void DeleteDurable(string key);
}
