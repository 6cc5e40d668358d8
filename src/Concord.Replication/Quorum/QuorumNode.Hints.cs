using System.Globalization;
using Concord.Core;

namespace Concord.Replication.Quorum;

public sealed partial class QuorumNode
{
    private readonly SortedDictionary<long, Hint> _hints = [];

    /// <summary>Keeps a write for <paramref name="target"/> durably; false when the hint store is full.</summary>
    private bool StoreHint(NodeId target, string key, StoredValue value, IQuorumHost host)
    {
        Invariant.Assert(target != Self);
        if (_hints.Count >= _config.HintsMax)
        {
            Stats.HintsDropped++;
            return false;
        }

        var hint = new Hint(NextId(), target, key, value);
        _hints.Add(hint.Id, hint);
        host.WriteDurable(HintKey(hint.Id), hint);
        Stats.HintsStored++;
        return true;
    }

    /// <summary>Resends the oldest hints, at most a batch per round; each stays until its target acks.</summary>
    private void ReplayHints(IQuorumHost host)
    {
        int sent = 0;
        foreach (Hint hint in _hints.Values)
        {
            if (sent++ == _config.HintReplayBatchMax)
            {
                break;
            }

            host.Send(hint.Target, new HintDelivery(hint.Id, hint.Key, hint.Value));
        }
    }

    private void OnHintAck(NodeId from, HintAck ack, IQuorumHost host)
    {
        if (_hints.TryGetValue(ack.HintId, out Hint? hint) && hint.Target == from)
        {
            _hints.Remove(ack.HintId);
            host.DeleteDurable(HintKey(ack.HintId));
            Stats.HintsDelivered++;
        }
    }

    // Fixed width so that durable keys sort in id order.
    private static string HintKey(long id) => HintPrefix + id.ToString("D19", CultureInfo.InvariantCulture);
}
