using Concord.Core;
using Concord.Messaging.Envelopes;
using Concord.Messaging.Sagas;
using Concord.Simulation.Nodes;

namespace Concord.Experiments.Commerce.Workflow;

/// <summary>How a transaction reaches disk and the bus in each mode (see the class remarks), and the outbox relay.</summary>
internal sealed partial class ServiceNode
{
    void Commit(LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        if (Outbox)
        {
            CommitWithOutbox(transaction, context);
        }
        else if (transaction.Writes.Count == 0 || transaction.Events.Count == 0)
        {
            // One step, no window: nothing to commit (a refusal: its answer describes a read, not a
            // change, so it is no ghost), or nothing to publish.
            Apply(transaction, context);
            foreach ((NodeId to, Message message) in transaction.Events)
            {
                context.Send(to, new BusDelivery(message, Truth.Published(to, committed: true)));
            }

            CrashPointAfter(transaction);
        }
        else if (context.Random.NextBool(world.Settings.PublishFirstShare))
        {
            PublishThenCommit(transaction, context);
        }
        else
        {
            CommitThenPublish(transaction, context);
        }
    }

    void CommitWithOutbox(LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        var rows = new List<OutboxRow>(transaction.Events.Count);
        foreach ((NodeId to, Message message) in transaction.Events)
        {
            var row = new OutboxRow(_nextOutboxSeq++, to, new BusDelivery(message, Truth.Published(to, committed: true)));
            transaction.WriteBookkeeping(OutboxKey(row.Seq), row);
            rows.Add(row);
        }

        Apply(transaction, context);
        foreach (OutboxRow row in rows)
        {
            _outbox.Add(row.Seq, row);
            _outboxSeqByMessage.Add(row.Delivery.MessageId, row.Seq);
        }

        if (rows.Count > 0 && !_relayWakeArmed)
        {
            // The relay wakes on the commit (NOTIFY in PostgreSQL), a moment later, in its own step.
            _relayWakeArmed = true;
            context.SetTimer(world.Settings.PublishDelayUs, RelayWakeTag);
        }

        CrashPointAfter(transaction);
    }

    void CommitThenPublish(LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        List<(NodeId, BusDelivery)> later = [.. transaction.Events.Select(e => (e.To, new BusDelivery(e.Message, Truth.Published(e.To, committed: true))))];
        Apply(transaction, context);
        _pending = new PendingDualWrite(later, null, []);
        context.SetTimer(world.Settings.PublishDelayUs, SecondHalfTag);
        CrashPointAfter(transaction);
    }

    void PublishThenCommit(LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        var publications = new List<int>(transaction.Events.Count);
        foreach ((NodeId to, Message message) in transaction.Events)
        {
            int publication = Truth.Published(to, committed: false);
            publications.Add(publication);
            context.Send(to, new BusDelivery(message, publication));
        }

        _pending = new PendingDualWrite([], transaction, publications);
        context.SetTimer(world.Settings.PublishDelayUs, SecondHalfTag);
        CrashPointAfter(transaction);
    }

    void FinishDualWrite(NodeContext<WorkflowMessage> context)
    {
        PendingDualWrite pending = _pending ?? throw new InvariantViolationException("a dual write's second half without a first");
        _pending = null;
        foreach ((NodeId to, BusDelivery delivery) in pending.Publish)
        {
            context.Send(to, delivery);
        }

        if (pending.Commit is not { } transaction)
        {
            return;
        }

        if (context.Random.NextBool(world.Settings.CommitFailureProbability))
        {
            foreach ((NodeId to, WorkflowMessage message) in transaction.OnRollback)
            {
                context.Send(to, message);
            }

            // The saga's timer fired into this transaction; the deadline poller finds it due again.
            foreach ((string sagaId, _, _, _) in transaction.Sagas)
            {
                RearmSagaTimer(sagaId, context);
            }

            return;
        }

        Apply(transaction, context);
        foreach (int publication in pending.Publications)
        {
            Truth.Committed(publication);
        }
    }

    /// <summary>The COMMIT: rows to disk and to the mirror, effects and saga states to the observer, then the direct answers and timers.</summary>
    void Apply(LocalTransaction transaction, NodeContext<WorkflowMessage> context)
    {
        foreach ((string key, object? value) in transaction.Writes)
        {
            if (value is null)
            {
                _committed.Remove(key);
                context.DeleteDurable(key);
            }
            else
            {
                _committed[key] = value;
                context.WriteDurable(key, value);
            }
        }

        foreach (string key in transaction.Effects)
        {
            Truth.Effect(key);
        }

        foreach ((string sagaId, SagaStatus status, SagaTimer? timer, long dueAtMs) in transaction.Sagas)
        {
            Truth.SagaCommitted(sagaId, status);
            if (timer is not null)
            {
                ArmSagaTimer(sagaId, timer, dueAtMs, context);
            }
        }

        foreach ((NodeId to, WorkflowMessage message) in transaction.OnCommit)
        {
            context.Send(to, message);
        }
    }

    void CrashPointAfter(LocalTransaction transaction)
    {
        if (transaction.ChangesBusinessData)
        {
            Truth.CrashPoint(self);
        }
    }

    /// <summary>Sends every outbox row never sent by this process, or unacknowledged for longer than the redelivery wait.</summary>
    void Relay(NodeContext<WorkflowMessage> context)
    {
        long nowUs = context.MonotonicNowUs;
        int sent = 0;
        foreach ((long seq, OutboxRow row) in _outbox)
        {
            if (sent == world.Settings.RelayBatchMax)
            {
                break;
            }

            if (_lastSentUs.TryGetValue(seq, out long lastUs) && nowUs - lastUs < world.Settings.RedeliverAfterUs)
            {
                continue;
            }

            context.Send(row.To, row.Delivery);
            _lastSentUs[seq] = nowUs;
            sent++;
        }
    }

    void Acknowledged(string messageId, NodeContext<WorkflowMessage> context)
    {
        if (!_outboxSeqByMessage.Remove(messageId, out long seq))
        {
            return; // a second acknowledgement: the row is already gone
        }

        _outbox.Remove(seq);
        _lastSentUs.Remove(seq);
        _committed.Remove(OutboxKey(seq));
        context.DeleteDurable(OutboxKey(seq));
    }
}
