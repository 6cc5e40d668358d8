using Concord.Core;
using Concord.Simulation.Faults;
using Concord.Simulation.Tracing;

namespace Concord.Simulation;

public sealed partial class Simulator<TMessage>
{
    private readonly List<ScheduledFault> _faults = [];

    /// <summary>Per fault: the clock offset and drift, or the processing delay, to restore at its heal.</summary>
    private readonly List<(long First, long Second)> _restoreOnHeal = [];

    private void AddFault(ScheduledFault fault)
    {
        int index = _faults.Count;
        _faults.Add(fault);
        _restoreOnHeal.Add(default);
        Push(new SimEvent<TMessage> { TimeUs = fault.StartUs, Kind = EventKind.FaultBegin, Node = -1, Peer = -1, Value = index, Incarnation = -1 });
    }

    private void BeginFault(int index)
    {
        ScheduledFault scheduled = _faults[index];
        Invariant.Assert(scheduled.StartUs == NowUs);
        _trace.Fault(TraceKind.FaultBegin, NowUs, index, scheduled.Fault.ToString());
        switch (scheduled.Fault)
        {
            case PartitionFault partition:
                Cut(partition, +1);
                break;
            case CrashFault crash:
                {
                    NodeSlot slot = _slots[crash.Node.Value];
                    slot.CrashDepth++;
                    if (slot.CrashDepth == 1 && slot.Up)
                    {
                        Crash(slot);
                    }

                    break;
                }

            case PauseFault pause:
                {
                    NodeSlot slot = _slots[pause.Node.Value];
                    slot.ReadyAtUs = Math.Max(slot.ReadyAtUs, scheduled.EndUs);
                    break;
                }

            case ClockFault clock:
                {
                    NodeSlot slot = _slots[clock.Node.Value];
                    _restoreOnHeal[index] = (slot.Clock.OffsetUs, slot.Clock.DriftPpm);
                    slot.Clock.Set(clock.OffsetUs, clock.DriftPpm);
                    break;
                }

            case SlowNodeFault slow:
                {
                    NodeSlot slot = _slots[slow.Node.Value];
                    _restoreOnHeal[index] = (slot.ProcessingDelayUs, 0);
                    slot.ProcessingDelayUs = slow.ProcessingDelayUs;
                    break;
                }

            default:
                throw new NotSupportedException($"Fault type {scheduled.Fault.GetType().Name} is not supported by the simulator.");
        }

        if (scheduled.EndUs != ScheduledFault.Forever)
        {
            Push(new SimEvent<TMessage> { TimeUs = scheduled.EndUs, Kind = EventKind.FaultEnd, Node = -1, Peer = -1, Value = index, Incarnation = -1 });
        }
    }

    private void EndFault(int index)
    {
        ScheduledFault scheduled = _faults[index];
        Invariant.Assert(scheduled.EndUs == NowUs);
        _trace.Fault(TraceKind.FaultEnd, NowUs, index, scheduled.Fault.ToString());
        switch (scheduled.Fault)
        {
            case PartitionFault partition:
                Cut(partition, -1);
                break;
            case CrashFault crash:
                {
                    NodeSlot slot = _slots[crash.Node.Value];
                    Invariant.Assert(slot.CrashDepth > 0);
                    slot.CrashDepth--;
                    if (slot.CrashDepth == 0)
                    {
                        Boot(slot, restart: slot.HasBooted);
                    }

                    break;
                }

            case PauseFault:
                // Nothing to undo: the node's ReadyAtUs releases the postponed events at EndUs.
                break;
            case ClockFault clock:
                {
                    (long offsetUs, long driftPpm) = _restoreOnHeal[index];
                    _slots[clock.Node.Value].Clock.Set(offsetUs, driftPpm);
                    break;
                }

            case SlowNodeFault slow:
                _slots[slow.Node.Value].ProcessingDelayUs = _restoreOnHeal[index].First;
                break;
            default:
                throw new NotSupportedException($"Fault type {scheduled.Fault.GetType().Name} is not supported by the simulator.");
        }
    }

    private void Cut(PartitionFault partition, int delta)
    {
        foreach (NodeId from in partition.From)
        {
            foreach (NodeId to in partition.To)
            {
                if (from == to)
                {
                    continue;
                }

                Adjust((int)from.Value, (int)to.Value);
                if (partition.Bidirectional)
                {
                    Adjust((int)to.Value, (int)from.Value);
                }
            }
        }

        void Adjust(int from, int to)
        {
            ref int cuts = ref _cuts[(from * _nodeCount) + to];
            cuts += delta;
            Invariant.Assert(cuts >= 0);
        }
    }
}
